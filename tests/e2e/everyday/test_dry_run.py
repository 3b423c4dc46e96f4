"""`apply --dry-run` renders what it can know and shows whole scripts (issue 16, item 6: it
printed raw `${{ }}` text and the first line of a multi-line script)."""

from __future__ import annotations


def test_dry_run_renders_params_matrix_and_env_and_keeps_what_only_the_run_knows(ws):
    ws.manifest(
        """
        extract:
          run: echo rows=3 >> "$PSR_OUTPUT"
        transform:
          needs: [extract]
          matrix: {region: [eu, us]}
          run: python3 t.py --region ${{ matrix.region }} --day ${{ params.day }} --db ${{ env.DB }}
        report:
          needs: [transform]
          run: echo "rows ${{ tasks.extract.outputs.rows }} for ${{ params.day }}"
        """,
        extra="""
        params:
          day: {type: string, default: "2026-11-25"}
          who: {type: string, default: "a b"}
        env:
          DB: ${{ params.day }}.db
        """,
    )
    result = ws.cli("apply", "--dry-run", "-p", "who=x")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "  transform[region=eu] [run] (needs extract): "  # values quoted as the run quotes them
        "python3 t.py --region 'eu' --day '2026-11-25' --db '2026-11-25.db'" in lines
    ), result.stdout
    assert (
        "  report [run] (needs transform[region=eu], transform[region=us]): "
        'echo "rows ${{ tasks.extract.outputs.rows }} for 2026-11-25"' in lines
    ), result.stdout
    assert "nothing executed" in lines[0]


def test_dry_run_shows_a_multi_line_script_whole(ws):
    ws.manifest(
        """
        build:
          run: |
            echo one
            echo ${{ params.n }}
            echo three
        check:
          needs: [build]
          script: |
            import sys
            print("checked")
        """,
        extra="""
        params:
          n: {type: integer, default: 2}
        """,
    )
    result = ws.cli("apply", "--dry-run")
    assert result.code == 0, result.stderr
    text = result.stdout
    assert "  build [run]:\n      echo one\n      echo '2'\n      echo three\n" in text
    assert '  check [script] (needs build):\n      import sys\n      print("checked")\n' in text
