"""Control room: Dash pages, public JSON API, camera frames and MJPEG over the live state in Redis."""
