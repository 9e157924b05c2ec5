"""genbook, the build tool: discovery, execution with papermill and a cache, the book and its scoreboard,
and the command line. Chapters never import it; its source is not part of a run's cache key, since it
does not change what a chapter computes."""
