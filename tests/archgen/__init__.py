"""Archive builders for tests: RAR 4 and RAR 5 (stored) from the formats' technotes, and the
other containers through py7zr, the standard library and libarchive's writer."""
