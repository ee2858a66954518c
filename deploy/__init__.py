"""How the services are deployed: the container's worker launcher and probes, and the
Kubernetes renderer (deploy/k8s). Nothing here is imported by the services themselves."""
