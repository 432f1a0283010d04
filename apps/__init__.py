"""Gradio demos of the lab (UI only: the models and logic live in `lab`). Serve them with `python -m apps.hub`."""
