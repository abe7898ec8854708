"""The dashboard: web server, map, websocket push server, and the public SOS form's limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from config.base import ConfigModel, LatLon


class MapConfig(ConfigModel):
    center: LatLon = (34.0, 71.55)
    zoom: int = Field(13, ge=1, le=20)
    tile_url: str | None = Field(None, description="XYZ tile URL; None draws local GeoJSON roads only.")
    tile_attribution: str = ""
    roads_geojson: Path = Field(Path("config/peshawar_roads.geojson"))


class LiveConfig(ConfigModel):
    """The websocket push server (``python -m dashboard.live``)."""

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)
    url: str | None = Field(
        None, description="Websocket URL browsers use (behind a proxy); None = ws://<page host>:<port>/ws."
    )
    allowed_origins: tuple[str, ...] = Field(
        (), description="Extra page origins allowed to open websockets (the dashboard's own is always allowed)."
    )
    coalesce_ms: int = Field(500, ge=50, le=10_000, description="Camera/segment status batches at most this often.")


class DashboardConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    refresh_ms: int = Field(1000, ge=100, le=60_000)
    map: MapConfig = MapConfig()
    live: LiveConfig = LiveConfig()
    session_ttl_s: int = Field(43_200, ge=60, le=30 * 86_400, description="Login sessions end this long after login.")
    secure_cookies: bool = Field(False, description="Mark cookies Secure (set True when served over HTTPS).")
    login_attempts: int = Field(5, ge=1, le=1000, description="Failed logins per user and address per 15 minutes.")


class SosConfig(ConfigModel):
    rate_limit: int = Field(3, ge=1, le=1000, description="SOS reports allowed per client per window.")
    rate_window_s: float = Field(600.0, gt=0)
    max_text_chars: int = Field(500, ge=10, le=5000)
    service_radius_km: float = Field(
        60.0, gt=0, description="Reports farther than this from the map centre are refused."
    )


__all__ = [
    "DashboardConfig",
    "LiveConfig",
    "MapConfig",
    "SosConfig",
]
