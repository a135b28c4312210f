package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/controlplane"
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/standalone"
	"portico.dev/portico/internal/status"
)

// offline computes what `portico run` would, without serving. The proxy is
// assumed to apply the configuration, so Programmed reflects validity; socket
// errors (a port in use) only show in a running gateway's /status.
func offline(dir, bind string, stderr io.Writer) (controlplane.Result, []status.Object, bool) {
	loader := file.NewLoader(dir)
	snap, diags, err := loader.Load()
	if err != nil {
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return controlplane.Result{}, nil, false
	}
	clean := true
	for _, d := range diags {
		clean = clean && d.Severity != "error"
	}
	res := controlplane.Compute(snap, graph.Options{BindAddress: bind, SharedSockets: true})
	for _, p := range standalone.ProblemLines(loader, diags, res.Graph.Warnings) {
		fmt.Fprintln(stderr, p)
	}
	objs := res.Status(status.Standalone{Answer: &ir.Ack{}}, nil, time.Now())
	return res, objs, clean
}

func statusCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("status --config DIR|FILE [-o table|yaml|json]",
		"Compute and print the status of every object under DIR, offline, as the API server would store it.\n"+
			"Exits 1 when a file does not parse.", stderr)
	dir := fs.String("config", "", "directory of Gateway API YAML, or one YAML file")
	out := fs.String("o", "table", "output format: table, yaml or json")
	bind := fs.String("bind-address", "0.0.0.0", "IP that Gateways without spec.addresses would listen on")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if !checkConfigDir(*dir, stderr, "status") {
		return 2
	}
	if *out != "table" && *out != "yaml" && *out != "json" {
		fmt.Fprintf(stderr, "portico status: -o %q: use table, yaml or json\n", *out)
		return 2
	}
	_, objs, clean := offline(*dir, *bind, stderr)
	if objs == nil && !clean {
		return 1
	}
	if objs == nil {
		objs = []status.Object{}
	}
	switch *out {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(objs)
	case "yaml":
		b, _ := yaml.Marshal(objs)
		_, _ = stdout.Write(b)
	default:
		printTable(stdout, objs)
	}
	if !clean {
		return 1
	}
	return 0
}

// printTable prints one line per object, listener and route parent, with the
// message of the first condition that is not as it should be.
func printTable(w io.Writer, objs []status.Object) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tSTATUS\tDETAIL")
	for _, o := range objs {
		name := o.Metadata.Name
		if o.Metadata.Namespace != "" {
			name = o.Metadata.Namespace + "/" + name
		}
		switch st := o.Status.(type) {
		case *gwv1.GatewayClassStatus:
			fmt.Fprintf(tw, "GatewayClass\t%s\t%s\t%s\n", name, summary(st.Conditions), problem(st.Conditions))
		case *gwv1.GatewayStatus:
			fmt.Fprintf(tw, "Gateway\t%s\t%s\t%s\n", name, summary(st.Conditions), problem(st.Conditions))
			for _, l := range st.Listeners {
				fmt.Fprintf(tw, "  listener\t%s\t%s routes=%d\t%s\n", l.Name, summary(l.Conditions), l.AttachedRoutes, problem(l.Conditions))
			}
		case *gwv1.ListenerSetStatus:
			fmt.Fprintf(tw, "ListenerSet\t%s\t%s\t%s\n", name, summary(st.Conditions), problem(st.Conditions))
			for _, l := range st.Listeners {
				fmt.Fprintf(tw, "  listener\t%s\t%s routes=%d\t%s\n", l.Name, summary(l.Conditions), l.AttachedRoutes, problem(l.Conditions))
			}
		case *gwv1.HTTPRouteStatus:
			fmt.Fprintf(tw, "HTTPRoute\t%s\t\t\n", name)
			for _, p := range st.Parents {
				fmt.Fprintf(tw, "  parent\t%s\t%s\t%s\n", standalone.ParentName(o.Metadata.Namespace, p.ParentRef), summary(p.Conditions), problem(p.Conditions))
			}
		case *gwv1.PolicyStatus:
			fmt.Fprintf(tw, "%s\t%s\t\t\n", o.Kind, name)
			for _, a := range st.Ancestors {
				fmt.Fprintf(tw, "  ancestor\t%s\t%s\t%s\n", standalone.ParentName(o.Metadata.Namespace, a.AncestorRef), summary(a.Conditions), problem(a.Conditions))
			}
		}
	}
	_ = tw.Flush()
}

func summary(cs []metav1.Condition) string {
	var parts []string
	for _, c := range cs {
		if c.Type == string(gwv1.ListenerConditionConflicted) && c.Status == metav1.ConditionFalse {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s", c.Type, c.Status))
	}
	return strings.Join(parts, " ")
}

// problem returns "Reason: message" of the first condition in a bad state.
func problem(cs []metav1.Condition) string {
	for _, c := range cs {
		if conditions.Bad(c) || c.Reason == string(gwv1.GatewayReasonListenersNotValid) {
			return c.Reason + ": " + c.Message
		}
	}
	return ""
}
