"""An example aksaudit plugin: one custom check, OWN001 (route tables on AKS subnets need an owner)."""
