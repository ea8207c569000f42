"""Customers as agents, rules and connectors change them: tags, attributes and the
display name (:meth:`CustomerWrites.update_profile`), and merging two customers with
undo (:meth:`CustomerWrites.merge`, :meth:`CustomerWrites.unmerge`; the machinery is in
:mod:`.customer_merge`).

A profile change is a read, then one conditional ``UpdateItem`` on the customer's
``version`` (the stream's writes to the customer never touch ``version``, ``tags`` or
``attributes``, so they do not race it): a caller that names ``expected_version`` gets
:class:`~switchboard_sdk.Conflict` when someone changed the customer since; one that does
not (a rule, a connector) is retried on the fresh item. A merged customer (``merged_into``)
takes no changes until the merge is undone; an erased one has no item (``NotFound``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from switchboard_sdk import Conflict, Customer, InvalidInput, NotFound

from ..storage.aws import is_condition_failure
from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import TenantKeys
from ..storage.personal import (
    DEFAULT_PERSONAL_ATTRIBUTES,
    SEALED_ATTRIBUTES,
    SEALED_IDENTITIES,
    PersonalFields,
    ref_kind,
)
from ..storage.sealing import Sealer
from ..storage.table import TenantTable
from .changes import MAX_TAGS, ChangeActor, valid_tags
from .customer_merge import MAX_TRANSACTION_ITEMS, CustomerMerge, CustomerMerges, version_condition

ATTRIBUTE_KEY = r"^[a-z][a-z0-9_]{0,39}$"
MAX_ATTRIBUTES = 50
ATTRIBUTE_VALUE_CHARS = 200
RETRIES = 5
CUSTOMER_ID = re.compile(r"cus_[a-z2-7]{26}")  # chalicelib.storage.ids.customer_id_for
IDENTITY_FIELDS = ("identities", "returned_identities", "left_identities")  # a merge record's identity refs
UNAVAILABLE = "(unavailable)"


class CustomerPatch(BaseModel):
    """What to change on a customer; fields left out stay as they are. ``tags`` replaces
    the tags, ``add_tags``/``remove_tags`` edit them (tags are lower-cased);
    ``attributes`` sets the keys it names and removes those set to ``null``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    add_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    remove_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    attributes: dict[str, str | None] = Field(default_factory=dict, max_length=2 * MAX_ATTRIBUTES)
    display_name: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("tags", "add_tags", "remove_tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else valid_tags(value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        for key, item in value.items():
            if not re.fullmatch(ATTRIBUTE_KEY, key):
                raise ValueError(f"attribute names are a-z, then up to 39 of a-z, 0-9, _ (not {key[:50]!r})")
            if item is not None and len(item) > ATTRIBUTE_VALUE_CHARS:
                raise ValueError(f"the value of {key!r} is over {ATTRIBUTE_VALUE_CHARS} characters")
        return value

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a display name cannot be blank")
        return None if value is None else value.strip()

    def applied(self, tags: list[str], attributes: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """``(tags, attributes)`` after this patch; :class:`InvalidInput` past the limits."""
        kept = list(tags if self.tags is None else self.tags)
        removed = set(self.remove_tags)
        new_tags = [tag for tag in dict.fromkeys([*kept, *self.add_tags]) if tag not in removed]
        new_attributes = dict(attributes)
        for key, value in self.attributes.items():
            if value is None:
                new_attributes.pop(key, None)
            else:
                new_attributes[key] = value
        if len(new_tags) > MAX_TAGS:
            raise InvalidInput(f"a customer has at most {MAX_TAGS} tags",
                               [{"field": "tags", "message": f"{len(new_tags)} tags after this change"}])
        if len(new_attributes) > MAX_ATTRIBUTES:
            raise InvalidInput(f"a customer has at most {MAX_ATTRIBUTES} attributes",
                               [{"field": "attributes",
                                 "message": f"{len(new_attributes)} attributes after this change"}])
        return new_tags, new_attributes


class CustomerWrites(TenantTable):
    """One tenant's customers, changed: profiles, merges and their undoing."""

    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *, clock: Callable[[], datetime],
                 personal: PersonalFields, max_transaction_items: int = MAX_TRANSACTION_ITEMS,
                 personal_attributes: Collection[str] = DEFAULT_PERSONAL_ATTRIBUTES) -> None:
        super().__init__(client, table_name, keys)
        self._clock = clock
        self._personal = personal  # the one place a customer item becomes a Customer: names, identities opened
        self._personal_attributes = frozenset(personal_attributes)  # sealed on the item, not in customer_state
        self._merges = CustomerMerges(client, table_name, keys, clock=clock, personal=personal,
                                      max_items=max_transaction_items)

    # -- profiles ----------------------------------------------------------------

    def get(self, customer_id: str) -> tuple[Customer, int]:
        """The customer and its version; :class:`NotFound` when there is none (or it was erased)."""
        item = self._item(customer_id)
        return self._personal.customer(item), int(item.get("version") or 0)

    def update_profile(self, customer_id: str, patch: CustomerPatch, *,
                       expected_version: int | None = None) -> Customer:
        """Apply ``patch``; the customer as it is now. See :meth:`update`."""
        return self.update(customer_id, patch, expected_version=expected_version)[0]

    def update(self, customer_id: str, patch: CustomerPatch, *,
               expected_version: int | None = None) -> tuple[Customer, int]:
        """Apply ``patch``: ``(customer, version)`` after it. :class:`NotFound` (no such
        customer), :class:`Conflict` (merged, or not at ``expected_version``),
        :class:`InvalidInput` (past the limits). A patch that changes nothing writes nothing."""
        for _ in range(RETRIES):
            item = self._item(customer_id)
            version = int(item.get("version") or 0)
            if item.get("merged_into"):
                raise Conflict(f"this customer was merged into {item['merged_into']}; change that one "
                               "(or undo the merge)")
            if expected_version is not None and expected_version != version:
                raise Conflict(f"the customer changed meanwhile (version {version}); read it again and retry")
            current, name = self._personal.customer(item), patch.display_name
            tags, attributes = patch.applied(list(item.get("tags") or ()), current.attributes)
            stored = dict(item.get(SEALED_ATTRIBUTES) or {})
            clear, sealed_attributes = self._personal.split_attributes(customer_id, attributes,
                                                                      self._personal_attributes, stored,
                                                                      current.attributes)
            if tags == current.tags and attributes == current.attributes and name in (None, current.display_name) \
                    and clear == dict(item.get("attributes") or {}) and sealed_attributes == stored:
                return current, version
            sealed = None if name is None else self._personal.seal_name(customer_id, name)
            written = self._write_profile(customer_id, version, tags, (clear, sealed_attributes), sealed)
            if written is not None:
                return self._personal.customer(written), version + 1
        raise Conflict("the customer kept changing; try again")

    def _write_profile(self, customer_id: str, version: int, tags: list[str],
                       attributes: tuple[dict[str, str], dict[str, str]], name: str | None) -> dict[str, Any] | None:
        """The conditional write (``attributes``: in clear, and the personal ones sealed;
        ``name``: sealed); the item after it, or ``None`` when the condition failed."""
        condition, values = version_condition(version)
        values |= {":tags": tags, ":attrs": attributes[0], ":sealed": attributes[1], ":next": version + 1,
                   ":now": iso(self._clock()), ":name": name}
        try:
            result = self._db.update_item(
                TableName=self._table, Key=self.keys.customer(customer_id),
                UpdateExpression=f"SET tags = :tags, #a = :attrs, {SEALED_ATTRIBUTES} = :sealed, version = :next, "
                "updated_at = :now" + (", display_name = :name" if name is not None else ""),
                ConditionExpression=f"attribute_exists(pk) AND attribute_not_exists(merged_into) AND {condition}",
                ExpressionAttributeNames={"#a": "attributes"}, ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        except Exception as err:
            if is_condition_failure(err):
                return None
            raise
        return from_item(result["Attributes"])

    def _item(self, customer_id: str) -> dict[str, Any]:
        item = self._get(self.keys.customer(customer_id)) if CUSTOMER_ID.fullmatch(customer_id) else None
        if item is None or item.get("type") != "customer":
            raise NotFound("no such customer")
        return item

    # -- merges ------------------------------------------------------------------

    def merge(self, target_id: str, source_id: str, actor: ChangeActor, *,
              audit: dict[str, Any] | None = None) -> CustomerMerge:
        """Merge ``source_id`` into ``target_id`` (resumable, idempotent): see
        :meth:`.customer_merge.CustomerMerges.merge`. ``audit``: a TransactItem written with its start."""
        for customer_id in (target_id, source_id):
            if not CUSTOMER_ID.fullmatch(customer_id):
                raise NotFound("no such customer")
        return self._readable([self._merges.merge(target_id, source_id, actor, audit=audit)], target_id)[0]

    def unmerge(self, target_id: str, source_id: str, actor: ChangeActor, *,
                audit: dict[str, Any] | None = None) -> CustomerMerge:
        """Undo the merge of ``source_id`` into ``target_id`` (idempotent): see
        :meth:`.customer_merge.CustomerMerges.unmerge`."""
        for customer_id in (target_id, source_id):
            if not CUSTOMER_ID.fullmatch(customer_id):
                raise NotFound("no such merge")
        return self._readable([self._merges.unmerge(target_id, source_id, actor, audit=audit)], target_id)[0]

    def merges(self, target_id: str) -> list[CustomerMerge]:
        """The merges into ``target_id`` (any state), oldest first."""
        return self._readable(self._merges.merges(target_id), target_id) if CUSTOMER_ID.fullmatch(target_id) else []

    def _readable(self, records: list[CustomerMerge], target_id: str) -> list[CustomerMerge]:
        """Merge records with their identity refs (stored: ``kind:<blind index>``) as
        ``kind:value``, opened from the customers holding them now; one neither holds (it
        moved on, or its customer was erased) reads ``kind:(unavailable)``."""
        if not any(getattr(r, name) for r in records for name in IDENTITY_FIELDS):
            return records
        values: dict[str, str] = {}
        for customer_id in dict.fromkeys([target_id, *(r.source_id for r in records)]):
            item = self._get(self.keys.customer(customer_id)) or {}
            values |= self._personal.open_identities(customer_id, item.get(SEALED_IDENTITIES) or ())
        return [record.model_copy(update={
            name: sorted(values.get(ref, f"{ref_kind(ref)}:{UNAVAILABLE}") for ref in getattr(record, name))
            for name in IDENTITY_FIELDS}) for record in records]


def customer_writes(client: Any, table_name: str, tenant_id: str, clock: Callable[[], datetime], *,
                    crypto: Sealer | None, max_transaction_items: int = MAX_TRANSACTION_ITEMS,
                    personal_attributes: Collection[str] = DEFAULT_PERSONAL_ATTRIBUTES) -> CustomerWrites:
    """The tenant's :class:`CustomerWrites` (validates the tenant id through its keys);
    ``crypto``: the store's (``hub.crypto``), for the customers' sealed fields;
    ``personal_attributes``: the tenant's ``workflow.personal_attributes`` (sealed when written)."""
    keys = TenantKeys(tenant_id)
    return CustomerWrites(client, table_name, keys, clock=clock, personal=PersonalFields(crypto, keys.tenant_id),
                          max_transaction_items=max_transaction_items, personal_attributes=personal_attributes)
