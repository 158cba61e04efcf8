// What the build stamped into the executables: the git commit they were built from.
#ifndef CBUILDINFO_H
#define CBUILDINFO_H

/// The abbreviated git commit the executables were built from, with `-dirty` when the work tree
/// had uncommitted changes ("1a2b3c4", "1a2b3c4-dirty"); "" when the build was not stamped
/// (a plain `swift build`, or a source tree outside git).
const char *cbuildinfo_commit(void);

#endif
