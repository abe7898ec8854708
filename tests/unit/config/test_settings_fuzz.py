"""The config loader under hypothesis: any file gives an AppConfig or a clear ConfigError.

``FUZZ_EXAMPLES=2000 pytest tests/unit/config/test_settings_fuzz.py`` fuzzes longer.

Mutations of a small valid config (a value replaced by anything YAML can hold, a key
removed, an unknown key added) and arbitrary text must never crash the loader with
another exception, and every error names the file (and, for invalid values, the field).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.settings import AppConfig, ConfigError, load_config

#: Examples per property; raise it for a longer fuzzing session (``FUZZ_EXAMPLES=2000``).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

BASE: dict[str, Any] = {
    "city": "Peshawar",
    "redis": {"url": None, "stream_maxlen": 1000},
    "worker": {"heartbeat_s": 1.0, "lease_ttl_s": 8.0, "lease_tick_s": 1.0, "spool_sync": "normal"},
    "segments": [{"id": "seg-1", "name": "Road", "path": [[34.0, 71.5], [34.01, 71.51]], "speed_limit_kmh": 60}],
    "cameras": [
        {
            "id": "cam-1",
            "name": "Cam",
            "location": [34.0, 71.5],
            "segment": "seg-1",
            "source": {"kind": "synthetic", "seed": 1, "width": 320, "height": 180},
            "lines": [{"id": "l", "a": [0, 100], "b": [320, 100]}],
            "zones": [{"id": "z", "polygon": [[0, 0], [320, 0], [320, 180]]}],
        },
        {
            "id": "cam-2",
            "name": "Cam 2",
            "location": [34.0, 71.5],
            "segment": "seg-1",
            "source": {"kind": "rtsp", "url": "rtsp://10.0.0.2/stream"},
        },
    ],
    "sos": {"rate_limit": 3},
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


ALL_PATHS = paths(BASE)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[last] = draw(values)
            elif action == "delete":
                del parent[last]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return doc


def load(tmp_path: Path, text: str) -> AppConfig | ConfigError:
    f = tmp_path / "fuzz.yaml"
    f.write_text(text, encoding="utf-8")
    try:
        return load_config(f)
    except ConfigError as e:
        msg = str(e)
        assert str(f) in msg, "the error names the file"
        assert msg.strip(), "the error says something"
        return e


def test_the_base_config_is_valid(tmp_path: Path) -> None:
    assert isinstance(load(tmp_path, yaml.safe_dump(BASE)), AppConfig)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=mutated())
def test_mutated_configs_load_or_fail_clearly(tmp_path: Path, doc: Any) -> None:
    got = load(tmp_path, yaml.safe_dump(doc, allow_unicode=True))
    if isinstance(got, ConfigError):
        lines = str(got).splitlines()
        assert len(lines) >= 1
        if "invalid configuration" in lines[0]:
            assert len(lines) >= 2 and all(ln.startswith("  ") and ": " in ln for ln in lines[1:]), str(got)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_arbitrary_text_loads_or_fails_clearly(tmp_path: Path, text: str) -> None:
    load(tmp_path, text)
