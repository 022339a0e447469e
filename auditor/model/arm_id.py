"""ARM resource ids, parsed once into their parts.

`/subscriptions/<s>/resourceGroups/<rg>/providers/<Namespace>/<type>/<name>[/<child type>/<child name>...]`

Azure returns the same id in several casings (ARG lower-cases some, ARM echoes what was
written), and ARM compares ids ordinal-ASCII-case-insensitively. So an `ArmId` keeps the text as
written (for messages and commands) and compares, hashes and indexes by `key`: the id with A-Z
lowered and nothing else folded (see `ascii_lower`). Parsing never fails: a string that is not
a full resource id keeps what it has (a subscription id, a resource group id, or nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from aksaudit.model.row_fields import ascii_lower, id_key


@dataclass(frozen=True, eq=False)
class ArmId:
    text: str  # as written, without surrounding whitespace or a trailing '/'
    subscription: str = ""  # as written; '' when the id names none
    resource_group: str = ""
    provider: str = ""  # resource provider namespace, e.g. 'Microsoft.Network'
    types: tuple[str, ...] = ()  # the type chain after the namespace: ('virtualNetworks', 'subnets')
    names: tuple[str, ...] = ()  # one name per type (the last type may lack one in a malformed id)

    @classmethod
    def parse(cls, value: str) -> "ArmId":
        text = value.strip().rstrip("/")
        parts = text.lstrip("/").split("/") if text.lstrip("/") else []
        subscription = resource_group = provider = ""
        index = 0
        while index + 1 < len(parts) and not provider:
            segment = ascii_lower(parts[index])
            if segment == "subscriptions" and not subscription and not resource_group:
                subscription = parts[index + 1]
            elif segment == "resourcegroups" and not resource_group:
                resource_group = parts[index + 1]
            elif segment == "providers":
                provider = parts[index + 1]
            else:
                break
            index += 2
        rest = parts[index:] if provider else []
        return cls(text, subscription, resource_group, provider, tuple(rest[0::2]), tuple(rest[1::2]))

    @classmethod
    def build(cls, subscription: str, resource_group: str, provider: str, types: tuple[str, ...],
              names: tuple[str, ...]) -> "ArmId":
        """The id of a resource from its parts (one name per type)."""
        path = "".join(f"/{kind}/{name}" for kind, name in zip(types, names))
        return cls.parse(f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{provider}{path}")

    @cached_property
    def key(self) -> str:
        """The comparison key: what `id_key` gives for the same text."""
        return id_key(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArmId) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text

    @property
    def type(self) -> str:
        """The lower-case ARG type, e.g. 'microsoft.network/virtualnetworks/subnets'."""
        return ascii_lower("/".join((self.provider, *self.types))) if self.provider else ""

    @property
    def name(self) -> str:
        """The last name in the id: a subnet's own name, a firewall's name."""
        return self.names[-1] if self.names else self.text.rsplit("/", 1)[-1]

    @property
    def resource_name(self) -> str:
        """The top-level resource's name: the VNet of a subnet id."""
        return self.names[0] if self.names else ""

    @property
    def child(self) -> str:
        """The child resource's name ('' for a top-level resource): the subnet of a subnet id."""
        return self.names[-1] if len(self.names) > 1 else ""

    @property
    def parent(self) -> "ArmId | None":
        """The resource holding a child resource (a subnet's VNet); None for a top-level one."""
        if len(self.names) < 2:
            return None
        return ArmId.parse(self.text.rsplit("/", 2)[0])

    @property
    def resource_group_id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}" if self.resource_group else ""
