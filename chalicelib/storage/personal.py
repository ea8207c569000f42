"""Customers' personal fields at rest: identities found by blind index, names and
identities sealed under the customer's own key (docs/storage.md, "Personal data").

The storage layer imports nothing of the hub, so the crypto it needs is injected
(``hub.crypto``, seen through :class:`~.sealing.Sealer`). One :class:`PersonalFields`
is bound to one tenant.

- An identity's *ref* is ``<kind>:<blind index>`` (HMAC-SHA256 of the normalised value
  under the tenant's index key): what its item's key (``T#<t>#ID#<ref>``), the customer's
  ``identity_keys`` and a merge record's ``identities`` hold. No address or phone number.
- The customer item's ``display_name`` is sealed (field ``display_name``; ``""``: none),
  and ``sealed_identities`` holds one ``"<ref> <sealed kind:value>"`` per identity (field
  ``identity:<ref>``, so an element copied under another ref does not open). A set, so
  the stream adds an identity with one ``ADD`` and no read; the same identity sealed
  twice by racing messages is two elements that open to the same value.
- ``sealed_attributes`` maps each personal attribute's name (the tenant's
  ``workflow.personal_attributes``) to its value sealed (field ``attribute:<name>``);
  ``attributes`` keeps the others in clear, for the rules' ``customer_state`` snapshot.
  :meth:`PersonalFields.customer` gives both as one ``attributes`` dict.
- Erasure deletes the customer's key (crypto-shredding): every copy of these fields,
  backups included, then opens to nothing, and the customer reads as erased.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from switchboard_sdk import Customer, Identity

from .sealing import CustomerSealer, SealedWithoutCrypto, Sealer

NAME = "display_name"
SEALED_IDENTITIES = "sealed_identities"  # the customer item's set of "<ref> <sealed>" elements
SEALED_ATTRIBUTES = "sealed_attributes"  # the customer item's map of personal attribute name → sealed value
# attribute names whose values are personal unless the tenant says otherwise (workflow.personal_attributes)
DEFAULT_PERSONAL_ATTRIBUTES = ("address", "birthday", "id_number")


def ref_kind(ref: str) -> str:
    """The identity kind a ref names (``email`` of ``email:<index>``)."""
    return ref.partition(":")[0]


class PersonalFields:
    """One tenant's identity refs, and its customers' fields sealed and opened."""

    def __init__(self, crypto: Sealer | None, tenant_id: str) -> None:
        self._crypto = crypto  # None: a store built by hand without one; personal fields then refuse
        self.tenant_id = tenant_id

    @property
    def crypto(self) -> Sealer | None:
        return self._crypto

    @property
    def _keys(self) -> CustomerSealer:
        return self._needed().customers

    def _needed(self) -> Sealer:
        if self._crypto is None:
            raise SealedWithoutCrypto("customers' identities and names need the store's crypto (hub.crypto)")
        return self._crypto

    def ref(self, identity: Identity) -> str:
        """``<kind>:<blind index>``: where the identity is found, computed without a call."""
        return f"{identity.kind}:{self._needed().blind_index(self.tenant_id, identity.kind, identity.value)}"

    def shred(self, customer_id: str) -> None:
        """Forget the customer's key: their sealed fields, wherever copied, no longer open."""
        self._keys.shred(self.tenant_id, customer_id)

    # -- sealing -----------------------------------------------------------------

    def seal_name(self, customer_id: str, name: str | None) -> str:
        """The stored form of a display name (``""``: none, nothing to hide)."""
        return self._keys.seal(self.tenant_id, customer_id, NAME, name) if name else ""

    def seal_identity(self, customer_id: str, ref: str, identity_key: str) -> str:
        """One ``sealed_identities`` element: the ref, and ``kind:value`` sealed for it."""
        return f"{ref} {self._keys.seal(self.tenant_id, customer_id, f'identity:{ref}', identity_key)}"

    def reseal(self, from_id: str, to_id: str, elements: Iterable[str]) -> list[str]:
        """``elements`` of ``from_id`` sealed again under ``to_id``'s key (a merge moving
        identities); those that no longer open (the key shredded) are left out."""
        opened = self.open_identities(from_id, elements)
        return [self.seal_identity(to_id, ref, identity_key) for ref, identity_key in opened.items()]

    def seal_attribute(self, customer_id: str, name: str, value: str) -> str:
        return self._keys.seal(self.tenant_id, customer_id, f"attribute:{name}", value)

    def split_attributes(self, customer_id: str, attributes: Mapping[str, str], personal: Collection[str],
                         stored: Mapping[str, str], was: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """``(clear, sealed)``: ``attributes`` (all of a customer's, opened) as the item holds
        them, those named in ``personal`` sealed. A value unchanged (``was``: the customer's
        attributes as already opened) keeps its ``stored`` sealed form (no new ciphertext, and
        no second decryption, for what did not change)."""
        clear = {k: v for k, v in attributes.items() if k not in personal}
        sealed = {k: stored[k] if k in stored and was.get(k) == v else self.seal_attribute(customer_id, k, v)
                  for k, v in attributes.items() if k in personal}
        return clear, sealed

    def reseal_attributes(self, from_id: str, to_id: str, sealed: Mapping[str, str]) -> dict[str, str]:
        """``sealed`` attributes of ``from_id`` sealed again under ``to_id``'s key (a merge)."""
        return {k: self.seal_attribute(to_id, k, v) for k, v in self.open_attributes(from_id, sealed).items()}

    # -- opening -----------------------------------------------------------------

    def open_attributes(self, customer_id: str, sealed: Mapping[str, str]) -> dict[str, str]:
        """name → value of a customer's ``sealed_attributes`` (none once shredded)."""
        opened: dict[str, str] = {}
        for name, value in sorted(sealed.items()):
            plain = self._keys.open(self.tenant_id, customer_id, f"attribute:{name}", value)
            if plain is None:
                return {}
            opened[name] = plain
        return opened

    def attributes(self, item: Mapping[str, Any]) -> dict[str, str]:
        """All of a customer item's attributes: those in clear and the personal ones opened."""
        sealed = item.get(SEALED_ATTRIBUTES) or {}
        opened = self.open_attributes(str(item["customer_id"]), sealed) if sealed else {}
        return dict(item.get("attributes") or {}) | opened

    def open_name(self, customer_id: str, sealed: str) -> str | None:
        if not sealed:
            return None
        return self._keys.open(self.tenant_id, customer_id, NAME, sealed) or None

    def open_identities(self, customer_id: str, elements: Iterable[str]) -> dict[str, str]:
        """ref → ``kind:value`` of a customer's ``sealed_identities`` (none once shredded)."""
        opened: dict[str, str] = {}
        for element in sorted(elements):
            ref, _, sealed = element.partition(" ")
            if ref in opened:
                continue  # the same identity sealed twice (racing messages): one value
            value = self._keys.open(self.tenant_id, customer_id, f"identity:{ref}", sealed)
            if value is None:
                return {}  # the key is shredded: nothing of this customer opens
            opened[ref] = value
        return opened

    def customer(self, item: dict[str, Any]) -> Customer:
        """A customer item as a :class:`Customer`, its personal fields opened. A shredded
        customer reads as erased: no name, no identities."""
        customer_id = str(item["customer_id"])
        # a merged customer's identities moved away: its set is gone (DynamoDB keeps no empty sets)
        keys = sorted(set(self.open_identities(customer_id, item.get(SEALED_IDENTITIES) or ()).values()))
        identities = [Identity(kind=k, value=v) for k, _, v in (i.partition(":") for i in keys)]
        return Customer(
            id=customer_id, tenant_id=item["tenant_id"], display_name=self.open_name(customer_id,
                                                                                   str(item.get(NAME) or "")),
            identities=identities, created_at=item["created_at"], tags=list(item.get("tags") or ()),
            attributes=self.attributes(item), merged_into=item.get("merged_into") or None,
        )


def element_refs(elements: Iterable[str]) -> set[str]:
    """The refs a ``sealed_identities`` set has an element for."""
    return {element.partition(" ")[0] for element in elements}
