"""``write_together``: a failed condition is an answer; any other cancellation is an error."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.storage.aws import write_together

PUT = {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}


class CancellingClient:
    """A DynamoDB client whose transactions are cancelled with the given reason codes."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes

    def transact_write_items(self, **request: Any) -> None:
        raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                           "CancellationReasons": [{"Code": code} for code in self.codes]}, "TransactWriteItems")


def test_failed_conditions_say_which_item_failed() -> None:
    assert write_together(CancellingClient(["None", "ConditionalCheckFailed"]), [PUT, PUT]) == [True, False]


@pytest.mark.parametrize("codes", [["TransactionConflict", "None"], ["None", "ThrottlingError"],
                                   ["ConditionalCheckFailed", "TransactionConflict"]])
def test_a_conflict_or_throttle_is_never_taken_for_a_write(codes: list[str]) -> None:
    with pytest.raises(ClientError):
        write_together(CancellingClient(codes), [PUT, PUT])
