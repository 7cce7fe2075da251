package transit

import "syscall"

// syscallEMFILE is "too many open files": the accept loop backs off instead of stopping.
const syscallEMFILE = syscall.EMFILE
