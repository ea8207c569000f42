"""chalicelib/crypto against moto's KMS: sealed fields open only where they were sealed,
data keys are cached within their bounds, KMS failures are a clear retryable error,
a tenant's own key (BYOK), blind indexes, customers' keys and crypto-shredding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.crypto.envelope import (
    unb64u,
)
from chalicelib.crypto.errors import CryptoNotConfigured, KeyServiceUnavailable, Undecryptable
from chalicelib.crypto.service import Crypto

TABLE = "crypto-test"
KEY_TABLE = "crypto-test-keys"  # customers' keys: a table of their own (no backups in the stack)
ITEM = '["T#acme#IN#web#m1","IN"]'


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CountingKms:
    """The KMS client, counting calls by operation."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return getattr(self.client, name)(**kwargs)

        return call


class KeyStateKms:
    """moto's KMS keeps using a disabled key; real KMS answers ``DisabledException``
    (a ``ClientError``). This proxy does what KMS does, after moto answered."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            result = getattr(self.client, name)(**kwargs)
            state = self.client.describe_key(KeyId=result["KeyId"])["KeyMetadata"]["KeyState"]
            if state != "Enabled":
                raise ClientError({"Error": {"Code": "DisabledException", "Message": f"{result['KeyId']} is disabled"}},
                                  name)
            return result

        return call


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        db = boto3.client("dynamodb", region_name="us-east-1")
        for name in (TABLE, KEY_TABLE):
            db.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield kms, db


def new_key(kms: Any) -> str:
    return str(kms.create_key(Description="test")["KeyMetadata"]["Arn"])


def key_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def wrapping_key(kms: Any, sealed: str, tenant: str) -> str:
    """The KMS key (ARN) that wrapped a sealed value's data key."""
    wrapped = unb64u(sealed.split(".")[1])
    return str(kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"tenant": tenant})["KeyId"])


def crypto_for(aws: tuple[Any, Any], *, stack_key: str | None = None, own: dict[str, str] | None = None,
               clock: Clock | None = None, kms: Any = None, **bounds: Any) -> Crypto:
    client, db = aws
    key = new_key(client) if stack_key is None else stack_key
    return Crypto(kms or client, db, TABLE, key, lambda tenant: (own or {}).get(tenant), clock or Clock(),
                  key_table_name=KEY_TABLE, **bounds)


def test_a_sealed_field_opens_where_it_was_sealed(aws: tuple[Any, Any]) -> None:
    crypto = crypto_for(aws)
    sealed = crypto.seal("acme", ITEM, "doc", '{"text": "电话 +8613812345678"}')
    assert sealed.startswith("sb1.")
    assert "1381234" not in sealed
    assert sealed.count(".") == 3
    assert crypto.open("acme", ITEM, "doc", sealed) == '{"text": "电话 +8613812345678"}'
    assert crypto.seal("acme", ITEM, "doc", "x") != crypto.seal("acme", ITEM, "doc", "x")  # fresh nonces


@pytest.mark.parametrize(("tenant", "item", "field"), [
    ("acme", '["T#acme#IN#web#m2","IN"]', "doc"),  # copied into another item
    ("acme", '["T#acme#IN#web#m1","IN2"]', "doc"),  # same partition, another sort key
    ("globex", '["T#globex#IN#web#m1","IN"]', "doc"),  # into another tenant
    ("acme", ITEM, "raw"),  # another field
])
def test_a_sealed_field_does_not_open_anywhere_else(aws: tuple[Any, Any], tenant: str, item: str,
                                                     field: str) -> None:
    crypto = crypto_for(aws)
    sealed = crypto.seal("acme", ITEM, "doc", "secret")
    with pytest.raises(Undecryptable):
        crypto.open(tenant, item, field, sealed)


def test_another_tenants_context_is_refused_by_kms_too(aws: tuple[Any, Any]) -> None:
    """A fresh container (no cached key) asks KMS, which refuses the wrapped key under another tenant."""
    key = new_key(aws[0])
    sealed = crypto_for(aws, stack_key=key).seal("acme", ITEM, "doc", "secret")
    with pytest.raises(Undecryptable):
        crypto_for(aws, stack_key=key).open("globex", ITEM, "doc", sealed)


@pytest.mark.parametrize("position", [5, 40, -30, -2])
def test_a_tampered_value_does_not_open(aws: tuple[Any, Any], position: int) -> None:
    crypto = crypto_for(aws)
    sealed = crypto.seal("acme", ITEM, "doc", "secret")
    wrapped, nonce, ciphertext = sealed.split(".")[1:]
    index = len("sb1.") + len(wrapped) + 1 + len(nonce) + 1 + (position % len(ciphertext))
    flipped = sealed[:index] + ("A" if sealed[index] != "A" else "B") + sealed[index + 1:]
    with pytest.raises(Undecryptable):
        crypto.open("acme", ITEM, "doc", flipped)


@pytest.mark.parametrize("bad", ["sb1.", "sb1.a.b", "sb1.!!.b.c", "sb2.a.b.c", "plain"])
def test_a_value_in_no_known_format_is_undecryptable(aws: tuple[Any, Any], bad: str) -> None:
    with pytest.raises(Undecryptable):
        crypto_for(aws).open("acme", ITEM, "doc", bad)


def test_the_data_key_is_reused_within_its_age_and_uses_then_rotated(aws: tuple[Any, Any]) -> None:
    clock, kms = Clock(), CountingKms(aws[0])
    crypto = crypto_for(aws, clock=clock, kms=kms, max_age_seconds=300, max_uses=5)
    wrapped = {crypto.seal("acme", ITEM, "doc", str(n)).split(".")[1] for n in range(5)}
    assert len(wrapped) == 1
    assert kms.calls == {"generate_data_key": 1}
    wrapped.add(crypto.seal("acme", ITEM, "doc", "sixth").split(".")[1])  # used up: a new key
    assert len(wrapped) == 2
    assert kms.calls == {"generate_data_key": 2}
    clock.advance(299)
    crypto.seal("acme", ITEM, "doc", "x")
    assert kms.calls == {"generate_data_key": 2}
    clock.advance(2)  # older than 300 s: a new key
    crypto.seal("acme", ITEM, "doc", "x")
    assert kms.calls == {"generate_data_key": 3}
    crypto.seal("globex", ITEM, "doc", "x")  # one key per tenant
    assert kms.calls == {"generate_data_key": 4}


def test_opening_unwraps_a_data_key_once_per_container(aws: tuple[Any, Any]) -> None:
    key, kms = new_key(aws[0]), CountingKms(aws[0])
    writer = crypto_for(aws, stack_key=key)
    sealed = [writer.seal("acme", ITEM, "doc", str(n)) for n in range(20)]
    reader = crypto_for(aws, stack_key=key, kms=kms)
    assert [reader.open("acme", ITEM, "doc", s) for s in sealed] == [str(n) for n in range(20)]
    assert kms.calls == {"decrypt": 1}


def test_without_a_key_sealing_is_a_configuration_error(aws: tuple[Any, Any]) -> None:
    client, db = aws
    crypto = Crypto(client, db, TABLE, "", lambda tenant: None, Clock())
    with pytest.raises(CryptoNotConfigured):
        crypto.seal("acme", ITEM, "doc", "x")


def test_an_unreachable_key_service_is_a_retryable_503(aws: tuple[Any, Any]) -> None:
    closed = boto3.client("kms", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          config=Config(connect_timeout=0.5, retries={"max_attempts": 1}))
    crypto = crypto_for(aws, kms=closed)
    with pytest.raises(KeyServiceUnavailable) as raised:
        crypto.seal("acme", ITEM, "doc", "x")
    assert raised.value.status == 503
    assert raised.value.retryable
    assert raised.value.code == "key_service_unavailable"
    assert raised.value.__cause__ is not None


def test_a_disabled_key_is_a_retryable_503(aws: tuple[Any, Any]) -> None:
    key, kms = new_key(aws[0]), KeyStateKms(aws[0])
    sealed = crypto_for(aws, stack_key=key, kms=kms).seal("acme", ITEM, "doc", "x")
    aws[0].disable_key(KeyId=key_id(key))
    with pytest.raises(KeyServiceUnavailable):
        crypto_for(aws, stack_key=key, kms=kms).seal("acme", ITEM, "doc", "x")
    with pytest.raises(KeyServiceUnavailable):
        crypto_for(aws, stack_key=key, kms=kms).open("acme", ITEM, "doc", sealed)


def test_a_tenants_own_key_seals_its_data_and_only_that_key_opens_it(aws: tuple[Any, Any]) -> None:
    client = aws[0]
    stack, own = new_key(client), new_key(client)
    clock = Clock()
    crypto = crypto_for(aws, stack_key=stack, own={"acme": own}, clock=clock, kms=KeyStateKms(client))
    mine, theirs = crypto.seal("acme", ITEM, "doc", "acme's"), crypto.seal("globex", ITEM, "doc", "globex's")
    assert wrapping_key(client, mine, "acme") == own
    assert wrapping_key(client, theirs, "globex") == stack
    client.disable_key(KeyId=key_id(own))
    clock.advance(301)  # past the cached keys' age: the container asks KMS again
    with pytest.raises(KeyServiceUnavailable):
        crypto.open("acme", ITEM, "doc", mine)
    with pytest.raises(KeyServiceUnavailable):
        crypto.seal("acme", ITEM, "doc", "more")
    assert crypto.open("globex", ITEM, "doc", theirs) == "globex's"  # the stack's key: unaffected
    assert crypto.seal("globex", ITEM, "doc", "more")


def test_blind_indexes_are_stable_per_tenant_and_differ_across_tenants(aws: tuple[Any, Any]) -> None:
    key, kms = new_key(aws[0]), CountingKms(aws[0])
    one = crypto_for(aws, stack_key=key, kms=kms)
    index = one.blind_index("acme", "phone", "+8613812345678")
    assert len(index) == 43
    assert "=" not in index
    assert one.blind_index("acme", "phone", "+8613812345678") == index
    assert one.blind_index("acme", "email", "+8613812345678") != index
    assert one.blind_index("globex", "phone", "+8613812345678") != index
    assert kms.calls == {"generate_data_key": 2}  # one index key per tenant, made once
    other = crypto_for(aws, stack_key=key, kms=kms)  # another container: reads the stored key, unwraps once
    assert other.blind_index("acme", "phone", "+8613812345678") == index
    assert other.blind_index("acme", "phone", "+8613800000000") != index
    assert kms.calls == {"generate_data_key": 2, "decrypt": 1}
    items = aws[1].scan(TableName=TABLE)["Items"]
    assert {(i["pk"]["S"], i["sk"]["S"]) for i in items} == {("T#acme#KEYS", "INDEX"), ("T#globex#KEYS", "INDEX")}


def test_customer_keys_seal_open_and_shred(aws: tuple[Any, Any]) -> None:
    key = new_key(aws[0])
    crypto = crypto_for(aws, stack_key=key)
    customers = crypto.customers
    sealed = customers.seal("acme", "c1", "display_name", "Ada Lovelace")
    assert sealed.startswith("sc1.")
    assert "Ada" not in sealed
    assert customers.open("acme", "c1", "display_name", sealed) == "Ada Lovelace"
    with pytest.raises(Undecryptable):
        customers.open("acme", "c1", "address", sealed)
    assert customers.open("acme", "c2", "display_name", sealed) is None  # c2 has no key
    keys = aws[1].scan(TableName=KEY_TABLE)["Items"]
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in keys] == [("T#acme#CKEY#c1", "KEY")]
    main = aws[1].scan(TableName=TABLE)["Items"]  # no customer's key: only the tenant's secret that wraps them
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in main] == [("T#acme#KEYS", "CUSTOMERS")]
    backup = [dict(i) for i in aws[1].scan(TableName=TABLE)["Items"]]  # a copy of the table before erasure
    other = crypto_for(aws, stack_key=key)
    assert other.customers.open("acme", "c1", "display_name", sealed) == "Ada Lovelace"
    customers.shred("acme", "c1")
    assert customers.open("acme", "c1", "display_name", sealed) is None
    assert crypto_for(aws, stack_key=key).customers.open("acme", "c1", "display_name", sealed) is None
    again = customers.seal("acme", "c1", "display_name", "Someone new")  # the id comes back: a new key
    assert customers.open("acme", "c1", "display_name", sealed) is None
    assert customers.open("acme", "c1", "display_name", again) == "Someone new"
    assert not any("Ada" in str(item) for item in backup)



class CountingDb:
    """The DynamoDB client, counting calls by operation; a first ``BatchGetItem`` leaves
    some keys unprocessed when ``unprocessed`` is set, as DynamoDB may."""

    def __init__(self, client: Any, *, unprocessed: int = 0) -> None:
        self.client = client
        self.calls: dict[str, int] = {}
        self._unprocessed = unprocessed

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == "batch_get_item" and self._unprocessed:
                [(table, request)] = kwargs["RequestItems"].items()
                held, asked = request["Keys"][:self._unprocessed], request["Keys"][self._unprocessed:]
                self._unprocessed = 0
                result = dict(self.client.batch_get_item(RequestItems={table: request | {"Keys": asked}}))
                return result | {"UnprocessedKeys": {table: request | {"Keys": held}}}
            return getattr(self.client, name)(**kwargs)

        return call


def test_a_page_of_customers_keys_loads_with_one_batch_get(aws: tuple[Any, Any]) -> None:
    key = new_key(aws[0])
    writer = crypto_for(aws, stack_key=key)
    sealed = {f"c{n}": writer.customers.seal("acme", f"c{n}", "subject", f"Order {n}") for n in range(130)}
    writer.customers.shred("acme", "c7")
    kms, db = CountingKms(aws[0]), CountingDb(aws[1])
    reader = Crypto(kms, db, TABLE, key, lambda tenant: None, Clock(), key_table_name=KEY_TABLE)  # a cold container
    reader.customers.prefetch("acme", [*list(sealed)[:60], "c1", "nobody"])
    assert db.calls == {"batch_get_item": 1, "get_item": 1}  # the keys; the tenant's wrapping secret
    assert kms.calls == {"decrypt": 1}
    db.calls.clear()
    opened = {c: reader.customers.open("acme", c, "subject", v) for c, v in list(sealed.items())[:60]}
    assert opened == {f"c{n}": None if n == 7 else f"Order {n}" for n in range(60)}
    assert db.calls == {"get_item": 1}, "only the shredded one is asked again"
    db.calls.clear()
    reader.customers.prefetch("acme", list(sealed))  # 70 more, 40 known: one call, and the cache answers
    assert db.calls == {"batch_get_item": 1}
    assert kms.calls == {"decrypt": 1}
    slow = Crypto(kms, CountingDb(aws[1], unprocessed=5), TABLE, key, lambda tenant: None, Clock(),
                  key_table_name=KEY_TABLE)
    slow.customers.prefetch("acme", list(sealed))  # 129 keys: two batches, the first answered in part
    db_calls = slow.customers._db.calls
    assert db_calls["batch_get_item"] == 3
    assert slow.customers.open("acme", "c0", "subject", sealed["c0"]) == "Order 0"
    assert db_calls.get("get_item", 0) == 1, "the wrapping secret only: every key came with the batches"


def test_customers_keys_cost_no_kms_call_each(aws: tuple[Any, Any]) -> None:
    key, kms = new_key(aws[0]), CountingKms(aws[0])
    crypto = crypto_for(aws, stack_key=key, kms=kms)
    sealed = {f"c{n}": crypto.customers.seal("acme", f"c{n}", "display_name", f"Customer {n}") for n in range(20)}
    assert kms.calls == {"generate_data_key": 1}  # the tenant's wrapping secret, made once
    fresh = crypto_for(aws, stack_key=key, kms=kms)  # another container opens all twenty
    assert {c: fresh.customers.open("acme", c, "display_name", v) for c, v in sealed.items()} == {
        f"c{n}": f"Customer {n}" for n in range(20)}
    assert kms.calls == {"generate_data_key": 1, "decrypt": 1}  # the secret, unwrapped once
    stored = aws[1].get_item(TableName=KEY_TABLE, Key={"pk": {"S": "T#acme#CKEY#c3"}, "sk": {"S": "KEY"}})["Item"]
    stored["customer_id"] = {"S": "c4"}  # a key item moved to another customer does not unwrap there
    aws[1].put_item(TableName=KEY_TABLE, Item=stored | {"pk": {"S": "T#acme#CKEY#c4"}})
    with pytest.raises(Undecryptable):
        crypto_for(aws, stack_key=key).customers.open("acme", "c4", "display_name", sealed["c4"])


def test_without_a_key_table_customer_keys_are_a_configuration_error(aws: tuple[Any, Any]) -> None:
    client, db = aws
    kms = CountingKms(client)
    crypto = Crypto(kms, db, TABLE, new_key(client), lambda tenant: None, Clock())
    for call in (lambda: crypto.customers.seal("acme", "c1", "display_name", "Ada"),
                 lambda: crypto.customers.open("acme", "c1", "display_name", "sc1.AAAAAAAAAAA.AAAA.AAAA"),
                 lambda: crypto.customers.shred("acme", "c1")):
        with pytest.raises(CryptoNotConfigured, match="SWITCHBOARD_KEY_TABLE"):
            call()
    assert kms.calls == {}, "refused before any key is made"
    assert db.scan(TableName=TABLE)["Items"] == [], "and never in the main table instead"
    assert crypto.seal("acme", ITEM, "doc", "x"), "the tenant's keys need no key table"
