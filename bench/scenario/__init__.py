"""Run a synthetic camera scenario through the real system and compare with its ground truth.

``python -m bench.scenario --scenario config/scenarios/speeders.yaml [--json]`` (or, as before,
``python -m ingest.simulate ...``)

A scenario file is YAML::

    name: Speeders on University Road
    description: ...          # shown to control-room trainees
    start: "2026-03-02T08:00:00Z"   # scene clock: frame times are reproducible
    duration_s: 90
    restart_at_s: null        # crash the worker at this scene time and start a new one
    restart_gap_s: 2.0        # frames the camera shows while no worker runs (lost)
    config: {...}             # a complete configuration (config/default.yaml's format)

Every camera of ``config`` must have a synthetic source; its scripted
``rule_breakers`` are the scenario. The run uses the real pieces: the camera runner
of :mod:`ingest.worker` with the vision pipeline, speeds, rules and evidence
(:mod:`ingest.enforce`), a durable event spool, a real Redis (a private embedded one
unless ``--redis-url``), the segment aggregator, and the ticketing and incidents
services writing a real SQL archive (a temporary SQLite file unless ``--archive-url``).

Expectations come from the scene's ground truth, never from what the system produced:
each scripted rule-breaker is checked against its true trajectory (a speeder must really
exceed limit + tolerance in the measurable part of the view, a wrong-way driver must
really drive against the flow, a red-light runner must really cross the stop line on red,
a stalled car must really stand still in a stopping zone long enough), watch-listed
plates must really be in view, and congestion spells are counted from the true
occupancy of the camera's zones run through the same level tracker. The report lists
each expected and produced ticket and incident, matched to the vehicles of the scene,
and ends with one JSON line::

    {"expected_tickets": n, "issued_tickets": m, "duplicate_tickets": d,
     "expected_incidents": i, "raised_incidents": j}

It doubles as a training tool: run it with ``--keep`` and open the archive in the
dashboard (``ARCHIVE_URL=...``) to review the tickets it issued.

Modules: :mod:`~bench.scenario.model` (the scenario file), :mod:`~bench.scenario.source`
(its camera), :mod:`~bench.scenario.expected` (what the truth says should happen),
:mod:`~bench.scenario.runner` (the run), :mod:`~bench.scenario.report` (the comparison)
and :mod:`~bench.scenario.cli` (``main``).
"""
