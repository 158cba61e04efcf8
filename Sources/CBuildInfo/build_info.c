// The build facts that Package.swift passes in as C defines (see DOCKER_CREDENTIAL_ECR_COMMIT there).
#include "CBuildInfo.h"

#ifndef CBUILDINFO_COMMIT
#define CBUILDINFO_COMMIT ""
#endif

const char *cbuildinfo_commit(void) {
    return CBUILDINFO_COMMIT;
}
