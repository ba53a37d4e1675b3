"""Intents: the questions a reader may ask of a document, which the ``intent`` chunker serves."""
