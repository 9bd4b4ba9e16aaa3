import hashlib
import io

import pytest

from service.storage import EmptyUpload, LocalStorage, OriginalMissing, UploadTooLarge


class FailingStream(io.RawIOBase):
    """Yields some bytes, then fails like a dropped connection."""

    def __init__(self):
        self.sent = False

    def readinto(self, buffer):
        if self.sent:
            raise ConnectionResetError("client went away")
        self.sent = True
        buffer[:4] = b"%PDF"
        return 4


def test_content_addressed_and_idempotent(tmp_path):
    store = LocalStorage(tmp_path)
    data = "关于做好政府信息公开工作的通知".encode() * 1000
    first = store.put(io.BytesIO(data))
    again = store.put(io.BytesIO(data))
    assert first.sha256 == hashlib.sha256(data).hexdigest() == again.sha256
    assert first.created and not again.created
    with store.open(first.sha256) as fh:
        assert fh.read() == data
    assert list(store.iter_digests()) == [first.sha256]


def test_failed_upload_leaves_nothing_and_retry_works(tmp_path):
    store = LocalStorage(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.put(FailingStream())
    assert list(store.iter_digests()) == [] and list(store.tmp.iterdir()) == []
    assert store.put(io.BytesIO(b"%PDF-1.7 retry")).created


def test_size_limit_while_streaming(tmp_path):
    store = LocalStorage(tmp_path)
    with pytest.raises(UploadTooLarge):
        store.put(io.BytesIO(b"x" * 5000), max_bytes=4096)
    assert list(store.tmp.iterdir()) == []


def test_empty_upload_refused(tmp_path):
    with pytest.raises(EmptyUpload):
        LocalStorage(tmp_path).put(io.BytesIO(b""))


def test_missing_original_is_a_coded_error(tmp_path):
    with pytest.raises(OriginalMissing):
        LocalStorage(tmp_path).open("0" * 64)


def test_digest_names_only(tmp_path):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).local_path("../../etc/passwd")
