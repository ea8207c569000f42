"""The reports API over the aggregates the stream keeps: the figures of a small desk,
CSV, filters and parameters, who may read them, every stream record delivered twice,
and the event archive (S3 objects for Athena, and the Glue table that reads them)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.metrics.archive import PREFIX, object_key
from tests.agents_support import signed_in
from tests.metrics_support import TENANT, Desk, stage
from tools.provision import NOT_EMULATED, TEMPLATE


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with stage() as s:
        d = Desk(s)
        work(d)
        yield d


def work(desk: Desk) -> None:
    """Ann: answered and solved at first contact. Bob: reassigned, solved, reopened and
    solved again. Cy: merged into Ann's. Dee: still open, nobody's."""
    ann = desk.customer_writes("ann")
    desk.advance(minutes=10)
    desk.change(ann, "ag1", assignee_id="ag1", group_id="g1", category="billing", add_tags=["vip"])
    desk.advance(minutes=5)
    desk.reply(ann, "ag1")
    desk.advance(minutes=30)
    desk.change(ann, "ag1", status="solved")
    bob = desk.customer_writes("bob")
    desk.change(bob, "ag1", assignee_id="ag1")
    desk.advance(minutes=20)
    desk.change(bob, "ag2", assignee_id="ag2")
    desk.reply(bob, "ag2")
    desk.advance(minutes=20)
    desk.change(bob, "ag2", status="solved")
    desk.advance(hours=2)
    desk.customer_writes("bob", "still broken")
    desk.advance(minutes=15)
    desk.reply(bob, "ag2")
    desk.change(bob, "ag2", status="solved")
    cy = desk.customer_writes("cy")
    desk.merge(cy, ann)
    desk.customer_writes("dee")
    desk.advance(minutes=1)


def test_the_summary_counts_each_ticket_once(desk: Desk) -> None:
    summary = desk.get("/v1/reports/summary")
    kpis = summary["kpis"]
    assert summary["period"]["time_zone"] == "UTC"
    assert summary["filters"] == {"channel": None, "group": None, "agent": None}
    assert kpis["volume"]["created"] == 4
    assert kpis["volume"]["by_channel"] == {"probe": 4}
    assert kpis["automation_rate"]["solved"] == 2  # Bob once, though solved twice; Cy merged
    assert kpis["reopen_rate"] == {"rate": 0.5, "reopened": 1, "solved": 2}
    assert kpis["fcr"] == {"rate": 0.5, "count": 1, "eligible": 2, "target": 0.9}
    assert kpis["first_response"]["count"] == 2  # Ann, Bob (Cy was never answered)
    assert kpis["next_reply"]["count"] == 1
    assert kpis["closure_rate"] == {"rate": round(2 / 3, 4), "closed": 2, "created": 3, "target": 0.98}
    assert kpis["backlog"]["open"] == 1
    assert kpis["backlog"]["age_buckets"][0] == {"label": "<1h", "count": 1}


def test_breakdown_flow_and_timeseries(desk: Desk) -> None:
    rows = {row["key"]: row for row in desk.get("/v1/reports/breakdown?by=agent")["rows"]}
    assert rows["ag2"]["solved"] == 1
    assert rows["ag1"]["solved"] == 1
    assert rows["ag1"]["handle_median_seconds"] is not None
    flow = desk.get("/v1/reports/flow")
    stages = {s["stage"]: s for s in flow["stages"]}
    assert list(stages) == ["accept", "triage", "handle", "resolve", "follow_up"]
    assert stages["accept"]["entered"] == 4
    assert stages["resolve"]["current"] == 2
    assert stages["triage"]["current"] == 1
    assert {"source": "resolve", "target": "handle", "value": 1} in flow["links"]
    series = desk.get("/v1/reports/timeseries?metrics=created,solved,backlog")
    assert sum(series["series"]["created"]) == 4
    assert series["series"]["backlog"][-1] == 1
    assert len(series["dates"]) == 30
    top = desk.get("/v1/reports/top-issues")
    assert top["categories"][0]["name"] == "billing"
    assert top["intents"] == []


def test_filters_narrow_every_report(desk: Desk) -> None:
    assert desk.get("/v1/reports/summary?agent=ag2")["kpis"]["automation_rate"]["solved"] == 1
    assert desk.get("/v1/reports/summary?group=g1")["kpis"]["volume"]["by_channel"] == {}
    assert desk.get("/v1/reports/flow?channel=probe")["filters"]["channel"] == "probe"
    assert desk.get("/v1/reports/top-issues?group=g1")["categories"][0]["name"] == "billing"  # Ann's, in g1
    assert desk.get("/v1/reports/top-issues?agent=ag2")["categories"] == []  # Bob's has no category


def test_csv_answers(desk: Desk) -> None:
    text = desk.get("/v1/reports/summary?format=csv")
    assert text.startswith("\ufeffmetric,value\r\n")
    assert "volume.created,4\r\n" in text
    breakdown = desk.get("/v1/reports/breakdown?by=agent&format=csv")
    assert breakdown.splitlines()[0] == "\ufeffkey,name,created,solved,first_response_median_seconds," \
                                        "handle_median_seconds,fcr_rate,csat_average,csat_responses,sla_attainment"
    assert desk.get("/v1/reports/flow?format=csv").splitlines()[1].startswith("stage,accept,4")
    assert desk.get("/v1/reports/top-issues?format=csv").splitlines()[1].startswith("categories,billing,1")


@pytest.mark.parametrize("query", ["from=2026-13-01", "from=2026-12-07&to=2026-12-01", "from=2025-01-01&to=2026-12-01",
                                   "agent=a&group=g", "format=xml", "metrics=nope", "by=weekday", "week=2026-W99",
                                   "limit=0", "colour=red", "by=agent&channel=probe"])
def test_bad_parameters_are_400(desk: Desk, query: str) -> None:
    path = "/v1/reports/" + ("breakdown" if "by=" in query else "top-issues" if "week" in query or "limit" in query
                             else "timeseries" if "metrics" in query else "summary")
    answer = desk.s.client.http.get(f"{path}?{query}", headers=desk.auth())
    assert answer.status_code == 400, answer.body
    assert json.loads(answer.body)["error"]["code"] == "bad_payload"


def test_supervisors_and_admins_read_reports_agents_do_not(desk: Desk) -> None:
    worked_until = desk.s.clock.now
    # Cognito's tokens are issued at the real time; the desk's clock goes back to where the
    # work left it after, or a later test's "today" could fall before the last tickets' day
    desk.s.clock.now = datetime.now(UTC)
    try:
        for role, status in (("supervisor", 200), ("admin", 200), ("agent", 403)):
            token = signed_in(desk.hub, role=role).id_token
            answer = desk.s.client.http.get("/v1/reports/flow", headers={"authorization": f"Bearer {token}"})
            assert answer.status_code == status, (role, answer.body)
    finally:
        desk.s.clock.now = worked_until
    assert desk.s.client.http.get("/v1/reports/summary").status_code == 401


def test_every_stream_record_delivered_twice_changes_no_figure(desk: Desk) -> None:
    before = [desk.get(f"/v1/reports/{name}") for name in ("summary", "flow", "breakdown?by=agent")]
    records = everything_on_the_stream(desk)
    assert len(records) > 50
    for start in range(0, len(records), 100):
        assert desk.hub.stream.process(records[start:start + 100]) == {"batchItemFailures": []}
    after = [desk.get(f"/v1/reports/{name}") for name in ("summary", "flow", "breakdown?by=agent")]
    assert after == before


def everything_on_the_stream(desk: Desk) -> list[dict[str, Any]]:
    streams, arn = desk.s.aws.client("dynamodbstreams"), desk.s.outputs["TableStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            result = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += [r | {"eventSourceARN": arn} for r in result["Records"]]
            iterator = result.get("NextShardIterator") if result["Records"] else None
    return records


def test_events_are_archived_for_athena(desk: Desk) -> None:
    s3, bucket = desk.hub.aws.s3, desk.hub.settings.bucket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/")["Contents"]]
    assert all(k.startswith(f"{PREFIX}/tenant_id={TENANT}/dt=") and k.endswith(".json.gz") for k in keys)
    events = [json.loads(line) for k in keys
              for line in gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()).splitlines()]
    types = {e["type"] for e in events}
    assert {"ticket.created", "message.created", "ticket.updated", "ticket.assigned"} <= types
    assert object_key("t", "2026-12-07", "1,2", ["b", "a"]) == object_key("t", "2026-12-07", "1,2", ["a", "b"])
    tags = s3.get_object_tagging(Bucket=bucket, Key=keys[0])["TagSet"]
    assert tags == [{"Key": "retention-days", "Value": "90"}]


def test_the_glue_table_reads_the_archive_layout_without_a_crawler() -> None:
    """moto's CloudFormation has no Glue: the catalog is in the packaged template only
    (tools/provision.py leaves it out of the local deploy)."""
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    table = resources["ArchiveEventsTable"]["Properties"]["TableInput"]
    assert {"AWS::Glue::Database", "AWS::Glue::Table"} <= NOT_EMULATED
    assert table["Parameters"]["projection.enabled"] == "true"
    assert table["Parameters"]["storage.location.template"]["Fn::Sub"].endswith(
        f"/{PREFIX}/tenant_id=${{!tenant_id}}/dt=${{!dt}}/")
    assert [k["Name"] for k in table["PartitionKeys"]] == ["tenant_id", "dt"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    archive = [s for s in resources["StoreChangesRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
               if "s3:PutObject" in s["Action"]]
    assert archive[0]["Resource"] == {"Fn::Sub": "${PayloadBucket.Arn}/" + PREFIX + "/*"}


class Direct:
    """What AgentClient.call does, answered by the reports API."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        from chalicelib.api.calls import ApiCall

        name = path.removeprefix("/v1/reports/").replace("-", "_")
        request = ApiCall(authorization=f"Bearer {self.desk.s.api_key}", query=query or {})
        self.desk.advance(seconds=1)
        return getattr(self.desk.hub.reports_api, name)(request).body


def test_the_cli_prints_tables_and_csv(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from tools import report_cli

    monkeypatch.setattr(report_cli, "agent_client", lambda *args: Direct(desk))
    result = CliRunner().invoke(report_cli.report, ["flow"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["KIND", "STAGE", "ENTERED", "LEFT"]
    assert lines[1].split()[:3] == ["stage", "accept", "4"]
    result = CliRunner().invoke(report_cli.report, ["breakdown", "--by", "agent", "--csv"])
    assert result.output.startswith("key,name,created,solved")
    result = CliRunner().invoke(report_cli.report, ["summary", "--from", "2026-01-01", "--to", "2026-01-01"])
    assert ["volume.created", "0"] in [line.split() for line in result.output.splitlines()]
