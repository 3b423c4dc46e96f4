"""The file provider: dotenv, JSON, YAML and text files, refused when others may read them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from psr_engine.secrets.base import ProviderError, SecretRef
from psr_engine.secrets.file import FileProvider

pytestmark = pytest.mark.anyio

VALUE = 'p@ss\'w\\rd $HOME "quoted"'


def private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


async def get(path: Path, **options: object) -> str:
    return await FileProvider().get(SecretRef("DB", "file", {"path": str(path), **options}))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".env", "USER=app\nPASSWORD='s3cret-value'\n"),
        ("secrets.json", json.dumps({"USER": "app", "PASSWORD": "s3cret-value"})),
        ("secrets.yaml", "USER: app\nPASSWORD: s3cret-value\n"),
        ("secrets.yml", "USER: app\nPASSWORD: s3cret-value\n"),
    ],
)
async def test_reads_a_key_in_each_format(tmp_path: Path, name: str, text: str) -> None:
    path = private(tmp_path / name, text)
    assert await get(path, key="PASSWORD") == "s3cret-value"


async def test_dotenv_values_are_not_interpolated(tmp_path: Path) -> None:
    path = private(tmp_path / ".env", "A=pa$HOME-ss\n")
    assert await get(path, key="A") == "pa$HOME-ss"


async def test_single_field_file_needs_no_key(tmp_path: Path) -> None:
    path = private(tmp_path / "one.json", '{"token": "only-one-field"}')
    assert await get(path) == "only-one-field"


async def test_several_fields_without_key_names_neither_fields_nor_values(tmp_path: Path) -> None:
    path = private(tmp_path / "two.json", '{"user": "alice-value", "password": "bob-value"}')
    with pytest.raises(ProviderError) as info:
        await get(path)
    message = str(info.value)
    assert info.value.reason == "invalid"
    assert "2 fields" in message and "key" in message and "--reveal" in message
    assert "alice-value" not in message and "bob-value" not in message
    assert "password" not in message and "user" not in message


async def test_unknown_key_is_not_found_and_names_no_other_field(tmp_path: Path) -> None:
    path = private(tmp_path / "s.yaml", "user: alice-value\n")
    with pytest.raises(ProviderError) as info:
        await get(path, key="password")
    assert info.value.reason == "not_found"
    assert "'password'" in str(info.value) and "user" not in str(info.value)
    assert "alice-value" not in str(info.value)


async def test_text_format_reads_the_whole_file(tmp_path: Path) -> None:
    path = private(tmp_path / "db_password", "line-one\nline-two\n")
    assert await get(path, format="text") == "line-one\nline-two"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
async def test_file_readable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / ".env"
    path.write_text("PASSWORD=s3cret-value\n")
    path.chmod(mode)
    with pytest.raises(ProviderError) as info:
        await get(path, key="PASSWORD")
    assert info.value.reason == "denied"
    assert f"chmod 600 {path}" in str(info.value)
    assert f"{mode:04o}" in str(info.value)
    assert "s3cret-value" not in str(info.value)


async def test_allow_insecure_reads_a_shared_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("PASSWORD=s3cret-value\n")
    path.chmod(0o644)
    assert await get(path, key="PASSWORD", allowInsecure=True) == "s3cret-value"


async def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as info:
        await get(tmp_path / "absent.env", key="X")
    assert info.value.reason == "not_found" and "absent.env" in str(info.value)


async def test_invalid_json_and_yaml_give_a_position_not_the_content(tmp_path: Path) -> None:
    bad_json = private(tmp_path / "bad.json", '{"k": "hidden-value-1",\n')
    bad_yaml = private(tmp_path / "bad.yaml", "k: [hidden-value-2\n")
    for path, hidden in ((bad_json, "hidden-value-1"), (bad_yaml, "hidden-value-2")):
        with pytest.raises(ProviderError) as info:
            await get(path, key="k")
        assert info.value.reason == "invalid"
        assert f"{path}:" in str(info.value) and hidden not in str(info.value)


async def test_relative_path_resolves_against_base_dir(tmp_path: Path) -> None:
    private(tmp_path / ".env", "K=relative-value\n")
    ref = SecretRef("K", "file", {"path": ".env", "key": "K", "baseDir": str(tmp_path)})
    assert await FileProvider().get(ref) == "relative-value"


@pytest.mark.parametrize("name", [".env", "s.json", "s.yaml"])
async def test_put_round_trips_awkward_values_and_creates_mode_600(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    provider = FileProvider()
    await provider.put(str(path), VALUE, key="PASSWORD")
    await provider.put(str(path), {"USER": "app-user"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert await get(path, key="PASSWORD") == VALUE
    assert await provider.list(str(path)) == ["PASSWORD", "USER"]
    await provider.delete(str(path), key="USER")
    assert await provider.list(str(path)) == ["PASSWORD"]
    await provider.delete(str(path))
    assert not path.exists()


async def test_delete_of_missing_field_is_not_found(tmp_path: Path) -> None:
    path = private(tmp_path / ".env", "A=alpha-value\n")
    with pytest.raises(ProviderError) as info:
        await FileProvider().delete(str(path), key="B")
    assert info.value.reason == "not_found"


def test_validate_reports_bad_fields() -> None:
    errors = FileProvider().validate({"format": "toml", "allowInsecure": "yes"})
    assert any("'path'" in e for e in errors)
    assert any("format" in e for e in errors)
    assert any("allowInsecure" in e for e in errors)
    assert FileProvider().validate({"path": "x.env", "key": "A"}) == []
