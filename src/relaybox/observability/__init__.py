"""What operators watch: Prometheus metrics (metrics.py, figures.py), request ids and structured
logs (logs.py), and the ASGI layer that ties both to each HTTP request (http.py)."""
