"""The content-addressed store: checksums, one blob per content, nothing left by a refused put."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.storage import BlobTooLarge, FileStore, read_chunks


def test_a_blob_is_named_by_its_checksum_and_reads_back(tmp_path) -> None:
    store = FileStore(tmp_path)
    blob = store.put([b"%PDF-1.7\n", b"Finanzierungsplan"])
    assert blob.sha256 == hashlib.sha256(b"%PDF-1.7\nFinanzierungsplan").hexdigest()
    assert blob.size == 26
    with store.open(blob.sha256) as stream:
        assert stream.read() == b"%PDF-1.7\nFinanzierungsplan"
    assert store.path(blob.sha256).relative_to(tmp_path).parts[:2] == (
        blob.sha256[:2], blob.sha256[2:4])


def test_the_same_content_twice_is_one_blob(tmp_path) -> None:
    store = FileStore(tmp_path)
    first, second = store.put([b"Satzung"]), store.put([b"Sat", b"zung"])
    assert first == second
    assert [sha for sha, _ in store.blobs()] == [first.sha256]


def test_content_over_the_limit_is_refused_and_leaves_nothing(tmp_path) -> None:
    store = FileStore(tmp_path)
    with pytest.raises(BlobTooLarge):
        store.put(iter([b"x" * 600, b"x" * 600]), max_bytes=1000)
    assert list(store.blobs()) == []
    assert list((tmp_path / "incoming").iterdir()) == []


def test_a_failing_source_leaves_nothing(tmp_path) -> None:
    def broken():
        yield b"first part"
        raise ConnectionError("client went away")

    store = FileStore(tmp_path)
    with pytest.raises(ConnectionError):
        store.put(broken())
    assert list(store.blobs()) == []
    assert list((tmp_path / "incoming").iterdir()) == []


def test_only_checksums_name_blobs(tmp_path) -> None:
    with pytest.raises(ValueError):
        FileStore(tmp_path).path("../../etc/passwd")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8), st.integers(min_value=1, max_value=64))
def test_any_chunking_gives_the_checksum_of_the_whole(tmp_path_factory, parts, size) -> None:
    store = FileStore(tmp_path_factory.mktemp("store"))
    whole = b"".join(parts)
    blob = store.put(parts)
    assert (blob.sha256, blob.size) == (hashlib.sha256(whole).hexdigest(), len(whole))
    with store.open(blob.sha256) as stream:
        assert b"".join(read_chunks(stream, size)) == whole
