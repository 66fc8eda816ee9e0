"""The pump's fast chunk encoder gives exactly the typed model's encoding, in every dialect.

Each chunk is sent as a prefix + base64 + suffix prepared once per utterance
(`heygen_core.audio.dialects.AudioTemplate`); the text must be the very
bytes `heygen_core.protocol.codec.encode` gives for the generated models the
dialect builds for the same chunk, whatever the audio and the event id.
"""

from __future__ import annotations

import base64
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heygen_core.audio.dialects import speech_dialect
from heygen_core.protocol.codec import encode
from heygen_core.realtime.connection import Dialect

DIALECTS: tuple[Dialect, ...] = get_args(Dialect)

chunks = st.lists(
    st.tuples(
        st.binary(min_size=0, max_size=4096),
        st.floats(min_value=0.0, max_value=1.5, allow_nan=False),
    ),
    min_size=1,
    max_size=6,
)
event_ids = st.one_of(st.uuids().map(lambda u: u.hex), st.text(max_size=40))


@pytest.mark.parametrize("dialect", DIALECTS)
@settings(max_examples=150, deadline=None, derandomize=True)
@given(parts=chunks, event_id=event_ids)
def test_fast_frames_equal_the_typed_encoding(
    dialect: Dialect, parts: list[tuple[bytes, float]], event_id: str
) -> None:
    speech = speech_dialect(dialect)
    fast, typed = speech.utterance(event_id), speech.utterance(event_id)
    for chunk, seconds in parts:
        frames = fast.frames(memoryview(chunk), seconds)
        expected = typed.chunk(base64.b64encode(chunk).decode("ascii"), seconds)
        assert frames == tuple(encode(m) for m in expected)
    # The per-utterance state (alpha's commits) stayed in step: so do the ends.
    assert fast.end() == typed.end()


def test_a_long_chunk_encodes_like_the_model() -> None:
    # 1 s of 24 kHz PCM16, the pump's usual chunk, with every byte value.
    chunk = bytes(range(256)) * (48_000 // 256 + 1)
    for dialect in DIALECTS:
        speech = speech_dialect(dialect)
        fast, typed = speech.utterance("e1"), speech.utterance("e1")
        expected = typed.chunk(base64.b64encode(chunk).decode("ascii"), 1.0)
        assert fast.frames(chunk, 1.0) == tuple(encode(m) for m in expected)
