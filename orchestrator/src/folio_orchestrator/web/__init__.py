"""``folio serve``: the twin on the web (chat page, ``/api/v1``, the ``/mcp`` gateway)."""
