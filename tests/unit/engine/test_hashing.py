"""Bucketing hashes every Python string: valid text lands exactly where it did before
(and where every Unleash SDK puts it), and a lone surrogate, which crashed the process
inside ``mmh3``, hashes as its ``surrogatepass`` UTF-8 bytes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipwise.engine.hashing import VARIANT_SEED, bucket, hash32

# (group id, identifier, bucket, variant hash): computed by the code before this change,
# which handed the string to mmh3 as it was.
KNOWN = [
    ("checkout", "user-42", 42, 3094308837),
    ("checkout", "élodie", 23, 1204451241),
    ("f", "😀", 90, 267975446),
    ("日本", "ユーザー", 42, 4108965348),
    ("g", "", 64, 3235096778),
    ("a", "\x00b", 11, 168032736),
]


@pytest.mark.parametrize(("group_id", "identifier", "position", "variant_hash"), KNOWN)
def test_bucket__valid_text__stays_where_it_was(
    group_id: str, identifier: str, position: int, variant_hash: int
) -> None:
    assert bucket(group_id, identifier) == position
    assert hash32(f"{group_id}:{identifier}", VARIANT_SEED, False) == variant_hash


# Every code point but the surrogates: the text mmh3 itself can hash.
valid_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None, database=None)
@given(text=valid_text, seed=st.sampled_from([0, VARIANT_SEED]), signed=st.booleans())
def test_hash32__any_valid_text__equals_mmh3_of_the_text(
    text: str, seed: int, signed: bool
) -> None:
    assert hash32(text, seed, signed) == mmh3.hash(text, seed, signed)


def test_hash32__lone_surrogates__hash_their_surrogatepass_bytes() -> None:
    assert hash32("\x00\ud800", 0, False) == mmh3.hash(b"\x00\xed\xa0\x80", 0, False)
    assert bucket("f", "\ud800") == mmh3.hash(b"f:\xed\xa0\x80", 0, False) % 100 + 1


def test_hash32__lone_surrogate__does_not_crash_the_process() -> None:
    # In a child process: before the fix this ended Python with SIGSEGV (exit -11/139),
    # which inside pytest would end the whole run instead of failing one test.
    program = textwrap.dedent(
        """
        from shipwise.engine.hashing import bucket, hash32
        print(hash32("\\x00\\ud800", 0, False), bucket("f", "\\udfff"), bucket("\\ud83d", "x"))
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.split()[0] == str(mmh3.hash(b"\x00\xed\xa0\x80", 0, False))
