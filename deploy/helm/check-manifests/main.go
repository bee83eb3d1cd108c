// Command check-manifests decodes each manifest of a `helm template` output into its type of
// k8s.io/api, refusing unknown fields. An API server drops a field it does not know (with a
// warning at most), so a misspelt or misplaced field in a template would otherwise go unnoticed:
// helm lint does not look inside the objects. Kinds it has no type for (KEDA's) are named as
// not checked. Usage: check-manifests FILE; exit 1 if any manifest is refused.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

var documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func typeOf(kind string) any {
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{}
	case "Job":
		return &batchv1.Job{}
	case "ConfigMap":
		return &corev1.ConfigMap{}
	case "Secret":
		return &corev1.Secret{}
	case "Service":
		return &corev1.Service{}
	case "Ingress":
		return &networkingv1.Ingress{}
	case "PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: check-manifests FILE")
		os.Exit(64)
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	refused := 0
	for _, document := range documentSeparator.Split(string(text), -1) {
		object, err := yaml.YAMLToJSON([]byte(document))
		if err != nil {
			fmt.Printf("refused: unreadable YAML: %v\n", err)
			refused++
			continue
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if string(object) == "null" || json.Unmarshal(object, &head) != nil || head.Kind == "" {
			continue
		}
		target := typeOf(head.Kind)
		if target == nil {
			fmt.Printf("not checked: %s %s\n", head.Kind, head.Metadata.Name)
			continue
		}
		decoder := json.NewDecoder(bytes.NewReader(object))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(target); err != nil {
			fmt.Printf("refused: %s %s: %v\n", head.Kind, head.Metadata.Name, err)
			refused++
			continue
		}
		fmt.Printf("ok: %s %s\n", head.Kind, head.Metadata.Name)
	}
	if refused > 0 {
		os.Exit(1)
	}
}
