"""File names of task instances (run/attempt.py): readable where they can be, never shared."""

from __future__ import annotations

from psr_engine.run.attempt import instance_stem, log_stem, workflow_folder


def test_plain_ids_name_their_files_as_they_are() -> None:
    assert log_stem("load", 1) == "load.1"
    assert log_stem("extract_v2-b", 3) == "extract_v2-b.3"


def test_ids_that_sanitise_alike_get_names_of_their_own() -> None:
    ids = [
        "t[c=Zürich]",
        "t[c=Zárich]",
        "t[c=São Paulo]",
        "t[c=São_Paulo]",
        "t[c=a b]",
        "t[c=a/b]",
        "t[c=a_b]",
        "t_c=a_b_",
        ".",
        "..",
        "x" * 300,
        "x" * 301,
    ]
    stems = [instance_stem(i) for i in ids]
    assert len(set(stems)) == len(ids)
    assert all("/" not in s and len(s.encode()) < 100 for s in stems)
    assert stems[2].startswith("t_c=S_o_Paulo_+")


def test_an_id_holding_a_secret_is_hashed_with_the_run_key() -> None:
    def mask(text: str) -> str:
        return text.replace("hunter2", "***")

    one = instance_stem("t[p=hunter2]", mask=mask, key=b"k" * 16)
    other = instance_stem("t[p=hunter2]", mask=mask, key=b"j" * 16)
    assert "hunter2" not in one and one.startswith("t_p=_+")
    assert one != other  # the hash is keyed: nobody can test guesses of the secret against it


def test_a_sub_workflow_folder_cannot_be_a_log_file_name() -> None:
    assert workflow_folder("sub") == "sub.workflow"
    assert workflow_folder("sub") not in {log_stem("sub", 1) + ".log", log_stem("sub", 1)}
