"""Document structure: block spans (headings, paragraphs, lists, code, tables) and sections.

:mod:`.blocks` finds the blocks of a document's text; :mod:`.apply` makes every
splitter and chunker respect them in the pipeline.
"""
