package testclient

import (
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Failures sends n requests made by newReq with c, conc at a time, and
// returns how many did not get a 200, with the first failure.
func Failures(c *http.Client, newReq func() *http.Request, n, conc int) (int, string) {
	var mu sync.Mutex
	failed, first := 0, ""
	work := make(chan struct{})
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				msg := ""
				resp, err := c.Do(newReq())
				if err != nil {
					msg = err.Error()
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						msg = fmt.Sprintf("%d %.100s", resp.StatusCode, body)
					}
				}
				if msg != "" {
					mu.Lock()
					if failed++; first == "" {
						first = msg
					}
					mu.Unlock()
				}
			}
		}()
	}
	for range n {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	return failed, first
}
