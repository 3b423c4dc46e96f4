"""Order, trigger rules and skip propagation, as a user sees them: exit codes and events."""

from __future__ import annotations


def test_a_task_starts_only_after_every_need_has_ended(ws):
    ws.manifest("""
        a: {run: "sleep 0.2; echo a >> order.txt"}
        b: {run: "echo b >> order.txt"}
        c: {needs: [a, b], run: "echo c >> order.txt"}
        d: {needs: [c], run: "echo d >> order.txt"}
    """)
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    order = (ws.root / "order.txt").read_text().split()
    assert order.index("c") > order.index("a") and order.index("c") > order.index("b")
    assert order[-1] == "d"
    assert result.statuses() == dict.fromkeys("abcd", "succeeded")


def test_every_trigger_rule_decides_as_airflow_does(ws):
    ws.manifest("""
        ok: {run: "true"}
        bad: {run: "exit 1"}
        all_success_after_bad: {needs: [ok, bad], run: "true"}
        all_done_after_bad: {needs: [ok, bad], trigger: all_done, run: "true"}
        all_failed_after_bad: {needs: [bad], trigger: all_failed, run: "true"}
        all_failed_after_mixed: {needs: [ok, bad], trigger: all_failed, run: "true"}
        one_failed_after_mixed: {needs: [ok, bad], trigger: one_failed, run: "true"}
        one_failed_after_ok: {needs: [ok], trigger: one_failed, run: "true"}
        one_success_after_mixed: {needs: [ok, bad], trigger: one_success, run: "true"}
        none_failed_after_mixed: {needs: [ok, bad], trigger: none_failed, run: "true"}
        none_failed_after_ok: {needs: [ok], trigger: none_failed, run: "true"}
        always_after_bad: {needs: [bad], trigger: always, run: "true"}
    """)
    result = ws.cli("apply")
    assert result.code == 1
    statuses = result.statuses()
    assert statuses["bad"] == "failed"
    ran = {t for t, s in statuses.items() if s == "succeeded"}
    assert ran == {
        "ok",
        "all_done_after_bad",
        "all_failed_after_bad",
        "one_failed_after_mixed",
        "one_success_after_mixed",
        "none_failed_after_ok",
        "always_after_bad",
    }
    reasons = {t: e.get("reason") for t, e in result.finished().items() if e["status"] == "skipped"}
    assert reasons["all_success_after_bad"] == "upstream_failed"
    assert reasons["none_failed_after_mixed"] == "upstream_failed"
    assert reasons["one_failed_after_ok"] == "upstream_succeeded"
    assert reasons["all_failed_after_mixed"] == "upstream_succeeded"


def test_skips_propagate_down_a_chain_with_the_reason_of_their_origin(ws):
    ws.manifest("""
        root: {run: "exit 2"}
        mid: {needs: [root], run: "touch mid-ran"}
        leaf: {needs: [mid], run: "touch leaf-ran"}
        gated: {run: "true", when: "${{ false }}"}
        after_gated: {needs: [gated], run: "touch after-gated-ran"}
        tolerant: {needs: [gated], trigger: none_failed, run: "touch tolerant-ran"}
    """)
    result = ws.cli("apply")
    assert result.code == 1
    events = result.finished()
    assert events["mid"]["reason"] == events["leaf"]["reason"] == "upstream_failed"
    assert events["gated"]["reason"] == "condition"
    assert events["after_gated"]["reason"] == "upstream_skipped"
    assert events["tolerant"]["status"] == "succeeded"
    assert not any((ws.root / f).exists() for f in ("mid-ran", "leaf-ran", "after-gated-ran"))


def test_continue_on_error_lets_the_run_succeed_and_downstream_run(ws):
    ws.manifest("""
        shaky: {run: "exit 4", continueOnError: true}
        next: {needs: [shaky], run: "touch next-ran"}
    """)
    result = ws.cli("apply")
    assert result.code == 0, result.stdout + result.stderr
    assert result.statuses() == {"shaky": "failed", "next": "succeeded"}
    assert (ws.root / "next-ran").exists()


def test_when_sees_upstream_outputs_just_before_start(ws):
    ws.manifest("""
        count: {run: "echo rows=0 >> $PSR_OUTPUT"}
        load: {needs: [count], when: "${{ tasks.count.outputs.rows | int > 0 }}", run: "touch loaded"}
        report: {needs: [count], when: "tasks.count.outputs.rows == '0'", run: "touch reported"}
    """)
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    assert result.finished()["load"]["reason"] == "condition"
    assert (ws.root / "reported").exists() and not (ws.root / "loaded").exists()
