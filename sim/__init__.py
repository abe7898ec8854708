"""The synthetic world: a rendered road with traffic and its ground truth, deterministic from a seed.

Modules, bottom up:

* :mod:`sim.camera`: ground metres <-> image pixels, the road's cross-section, default cameras;
* :mod:`sim.paint`: colours, haze and sub-pixel fills shared by the painters;
* :mod:`sim.specs`: vehicle classes (shape, colours, driving parameters);
* :mod:`sim.plates`: number plates (text, colour, placement, drawing);
* :mod:`sim.look`: how one vehicle is projected and painted;
* :mod:`sim.background`: the static street, drawn once per scene;
* :mod:`sim.traffic`: vehicle state, car following and sideways moves;
* :mod:`sim.truth`: per-frame ground truth and the projection it shares with the renderer;
* :mod:`sim.scene`: :class:`~sim.scene.SyntheticScene`, the simulated and rendered road;
* :mod:`sim.source`: :class:`~sim.source.SyntheticSource`, the scene as an :class:`ingest.base.FrameSource`;
* :mod:`sim.preview`: ``python -m sim.preview``, render a preview or measure the fps.

:mod:`sim` imports :mod:`core`, :mod:`config` and, for the frame-source contract only,
:mod:`ingest.base`; :mod:`ingest` builds synthetic cameras from it.
"""
