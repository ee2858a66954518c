"""The Kubernetes manifests (base/ and overlays/, kustomize's layout) and their renderer."""
