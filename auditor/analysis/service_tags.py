"""Azure service tags: named address sets whose contents Microsoft publishes and changes weekly.

aksaudit works offline, so a tag is a *name*, not a list of prefixes. What matters for a verdict is
whether a name is a tag at all (a typo or an unknown tag is data we cannot interpret: fail closed)
and whether the tag is *broad*: `AzureCloud` (and its regional forms such as
`AzureCloud.westeurope`) holds every public address Azure hosts, where anyone can rent a VM or a
storage account, so allowing it is allowing a large part of the Internet. `Internet` is every
public address.

The base names below are the tags Azure documents for network rules ("Virtual network service
tags"); most accept a regional scope written `<Tag>.<region>`. Users can name more through the
`known_service_tags` option of the firewall checks when Azure adds one before aksaudit knows it.
"""
from __future__ import annotations

KNOWN_BASE_TAGS = frozenset(name.lower() for name in (
    "ActionGroup", "ApiManagement", "AppConfiguration", "AppService", "AppServiceManagement",
    "AutonomousDevelopmentPlatform", "AzureActiveDirectory", "AzureActiveDirectoryDomainServices",
    "AzureAdvancedThreatProtection", "AzureArcInfrastructure", "AzureAttestation", "AzureBackup",
    "AzureBotService", "AzureCloud", "AzureCognitiveSearch", "AzureConnectors", "AzureContainerAppsService",
    "AzureContainerRegistry", "AzureCosmosDB", "AzureDatabricks", "AzureDataExplorerManagement",
    "AzureDataLake", "AzureDeviceUpdate", "AzureDevOps", "AzureDevSpaces", "AzureDigitalTwins",
    "AzureEventGrid", "AzureEventHub", "AzureFrontDoor.Backend", "AzureFrontDoor.FirstParty",
    "AzureFrontDoor.Frontend", "AzureHealthcareAPIs", "AzureInformationProtection", "AzureIoTHub",
    "AzureKeyVault", "AzureLoadBalancer", "AzureMachineLearning", "AzureMachineLearningInference",
    "AzureManagedGrafana", "AzureMonitor", "AzureMonitorForSAP", "AzureOpenDatasets", "AzurePlatformDNS",
    "AzurePlatformIMDS", "AzurePlatformLKM", "AzureResourceManager", "AzureSentinel", "AzureSignalR",
    "AzureSiteRecovery", "AzureSphere", "AzureSpringCloud", "AzureStack", "AzureTrafficManager",
    "AzureUpdateDelivery", "AzureWebPubSub", "BatchNodeManagement", "ChaosStudio", "CognitiveServicesFrontend",
    "CognitiveServicesManagement", "DataFactory", "DataFactoryManagement", "Dynamics365BusinessCentral",
    "Dynamics365ForMarketingEmail", "EOPExternalPublishedIPs", "EventHub", "GatewayManager", "GenevaActions",
    "GuestAndHybridManagement", "HDInsight", "Internet", "KustoAnalytics", "LogicApps", "LogicAppsManagement",
    "M365ManagementActivityApi", "M365ManagementActivityApiWebhook", "Marketplace", "MicrosoftAzureFluidRelay",
    "MicrosoftCloudAppSecurity", "MicrosoftContainerRegistry", "MicrosoftDefenderForEndpoint",
    "MicrosoftPurviewPolicyDistribution", "OneDsCollector", "PowerBI", "PowerPlatformInfra", "PowerPlatformPlex",
    "PowerQueryOnline", "SCCservice", "Scuba", "SerialConsole", "ServiceBus", "ServiceFabric", "Sql",
    "SqlManagement", "Storage", "StorageMover", "StorageSyncService", "TridentKusto", "VideoIndexer",
    "VirtualNetwork", "WindowsAdminCenter", "WindowsVirtualDesktop",
))

# Tags covering (nearly) all public space Azure hosts: allowing them is allowing tenants anyone can create.
BROAD_BASE_TAGS = frozenset({"azurecloud"})
EVERYTHING_TAGS = frozenset({"internet"})


def canonical_tag(token: str, extra_known: frozenset[str] = frozenset()) -> str | None:
    """The lower-cased tag name if `token` is a known service tag (optionally regional), else None."""
    name = token.strip().lower()
    if not name or any(c in name for c in "/:* "):
        return None
    if name in KNOWN_BASE_TAGS or name in extra_known:
        return name
    base, dot, region = name.rpartition(".")
    if dot and region.isalnum() and (base in KNOWN_BASE_TAGS or base in extra_known):
        return name
    return None


def is_broad(tag: str) -> bool:
    """`AzureCloud` or a regional `AzureCloud.<region>`."""
    return tag.split(".", 1)[0] in BROAD_BASE_TAGS
