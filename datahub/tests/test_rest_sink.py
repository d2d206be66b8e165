"""The datahub-rest sink against a GMS stand-in that checks every proposal with DataHub's
own models: everything accepted, a re-run idempotent, a bad token stops the run before any
Sigma request, and only a complete run soft-deletes."""

from __future__ import annotations

from pathlib import Path

from conftest import ingest, start_sandbox, stop, workflow
from gms_standin import GmsStandIn

SECRET_TOKEN = "dh-token-must-never-be-printed-7f3a"


def rest(gms: GmsStandIn, token: str = "standin-token") -> dict:
    return {"type": "datahub-rest", "config": {"server": gms.url, "token": token}}


def test_every_proposal_is_accepted_and_a_rerun_changes_nothing(tmp_path: Path, gms) -> None:
    # A generated org: its element ids repeat across workbooks, as Sigma's do, so charts
    # share URNs; batches in flight must still leave the same aspects every run.
    org = start_sandbox("--workbooks", "12", "--reports", "3", "--data-models", "3")
    try:
        first = ingest(tmp_path, workflow(org, rest(gms)))
        assert first.returncode == 0, first.output
        assert gms.refused == []
        assert gms.proposals > 100
        after_first = dict(gms.aspects)
        assert any(u.startswith("urn:li:dashboard:(sigma,") for u in gms.live())
        assert any(u.startswith("urn:li:chart:(sigma,") for u in gms.live())
        for _ in range(2):
            again = ingest(tmp_path, workflow(org, rest(gms)))
            assert again.returncode == 0, again.output
            assert gms.refused == []
            assert gms.aspects == after_first, "another run of the same org writes the same aspects"
    finally:
        stop(org.process)
    assert gms.removed() == []


def test_transient_gms_errors_are_retried(tmp_path: Path, sandbox, gms) -> None:
    gms.fail_next = 2
    run = ingest(tmp_path, workflow(sandbox, rest(gms)))
    assert run.returncode == 0, run.output
    assert gms.refused == []
    assert gms.fail_next == 0


def test_a_bad_token_fails_before_any_sigma_request_and_is_never_printed(tmp_path: Path, sandbox, gms) -> None:
    before = sandbox.requests()
    run = ingest(tmp_path, workflow(sandbox, rest(gms, token=SECRET_TOKEN)))
    assert run.returncode != 0
    assert "refused the token" in run.output, run.output
    assert sandbox.requests() == before, "no Sigma request before the sink is known to work"
    assert SECRET_TOKEN not in run.output
    assert SECRET_TOKEN not in str(run.status)
    assert gms.proposals == 0


def test_a_dead_server_fails_in_words(tmp_path: Path, sandbox) -> None:
    run = ingest(tmp_path, workflow(sandbox, {"type": "datahub-rest", "config": {"server": "http://127.0.0.1:9"}}))
    assert run.returncode != 0
    assert "cannot reach DataHub GMS at http://127.0.0.1:9" in run.output, run.output


def test_only_a_complete_run_soft_deletes_what_it_no_longer_sees(tmp_path: Path, gms) -> None:
    state = tmp_path / "state.json"
    org = ("--workbooks", "6", "--reports", "2", "--data-models", "2")
    whole = start_sandbox(*org)
    try:
        first = ingest(tmp_path, workflow(whole, rest(gms)), "--state", str(state))
        assert first.returncode == 0, first.output
        live_before = set(gms.live())
        # Every filtered-out workbook is no longer seen by a complete run.
        excluded = {"dashboardFilterPattern": {"excludes": ["Workbook 1$"]}}
        broken = start_sandbox(*org, "--fail-listings-from", "2")
        try:
            partial = ingest(
                tmp_path, workflow(broken, rest(gms), excluded, {"pageSize": 2}), "--state", str(state)
            )
        finally:
            stop(broken.process)
        assert partial.status.get("outcome") == "partial", partial.output
        assert gms.removed() == [], "a partial run removes nothing"
        complete = ingest(tmp_path, workflow(whole, rest(gms), excluded), "--state", str(state))
    finally:
        stop(whole.process)
    assert complete.returncode == 0, complete.output
    removed = set(gms.removed())
    assert removed, "the filtered-out workbook is soft-deleted"
    assert removed <= live_before
    assert not removed & set(gms.live()), "nothing still rendered is marked removed"
    assert any(u.startswith("urn:li:dashboard:(sigma,") for u in removed)
    assert complete.status["deleted"] == len(removed)
    assert gms.refused == []
