package cli

import (
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/status"
)

func translateCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("translate --config DIR|FILE",
		"Print the data-plane configuration (IR, private keys redacted) and the status that the YAML under DIR produces.", stderr)
	dir := fs.String("config", "", "directory of Gateway API YAML, or one YAML file")
	bind := fs.String("bind-address", "0.0.0.0", "IP that Gateways without spec.addresses would listen on")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if !checkConfigDir(*dir, stderr, "translate") {
		return 2
	}
	res, objs, clean := offline(*dir, *bind, stderr)
	if objs == nil && !clean {
		return 1
	}
	out := struct {
		Config ir.Config       `json:"config"`
		Status []status.Object `json:"status"`
	}{res.Config.Redacted(), objs}
	b, err := yaml.Marshal(out)
	if err != nil {
		fmt.Fprintf(stderr, "portico translate: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(b)
	if !clean {
		return 1
	}
	return 0
}
