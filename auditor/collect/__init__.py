"""Collectors: Azure Resource Graph and the AKS management APIs, into raw evidence."""

from auditor.collect.clients import AzureClients, credential_from_environment
from auditor.collect.scan import ScanOptions, run_scan

__all__ = ["AzureClients", "ScanOptions", "credential_from_environment", "run_scan"]
