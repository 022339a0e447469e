"""aksaudit: is every AKS cluster's outbound traffic really forced through a firewall that filters?"""

__version__ = "0.1.0"
