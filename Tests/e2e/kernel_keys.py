"""The kernel key retention service from the tests' side: what docker-credential-ecr keeps in the
user keyring, read with the raw system calls (no keyutils needed), and a seccomp filter that
refuses those calls, as Docker's default profile does."""
import ctypes
import errno
import hashlib
import os
import platform
import struct

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long

# x86_64 and aarch64 system call numbers.
CALLS = {"x86_64": {"add_key": 248, "request_key": 249, "keyctl": 250},
         "aarch64": {"add_key": 217, "request_key": 218, "keyctl": 219}}[platform.machine()]
KEY_SPEC_USER_KEYRING = -4
KEYCTL_DESCRIBE, KEYCTL_SEARCH, KEYCTL_READ, KEYCTL_SET_TIMEOUT, KEYCTL_INVALIDATE = 6, 10, 11, 15, 21
KEYRING = b"docker-credential-ecr"


def _keyctl(*arguments):
    result = LIBC.syscall(ctypes.c_long(CALLS["keyctl"]), *arguments)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def search(keyring, kind: bytes, description: bytes):
    """The serial of a key, or None (absent, expired, revoked)."""
    try:
        return _keyctl(ctypes.c_long(KEYCTL_SEARCH), ctypes.c_long(keyring), ctypes.c_char_p(kind),
                       ctypes.c_char_p(description), ctypes.c_long(0))
    except OSError as error:
        if error.errno in (errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREVOKED):
            return None
        raise


def read(serial) -> bytes:
    buffer = ctypes.create_string_buffer(1 << 18)
    length = _keyctl(ctypes.c_long(KEYCTL_READ), ctypes.c_long(serial), buffer, ctypes.c_long(len(buffer)), ctypes.c_long(0))
    return buffer.raw[:length]


def describe(serial) -> str:
    buffer = ctypes.create_string_buffer(8192)
    _keyctl(ctypes.c_long(KEYCTL_DESCRIBE), ctypes.c_long(serial), buffer, ctypes.c_long(len(buffer)), ctypes.c_long(0))
    return buffer.value.decode()


def invalidate(serial):
    _keyctl(ctypes.c_long(KEYCTL_INVALIDATE), ctypes.c_long(serial), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))


def scope(bus_address: str) -> str:
    """The scope docker-credential-ecr puts in its key descriptions for a `unix:path=` session bus
    (see KernelKeyringStore.scope): the socket's resolved path, whatever else the address says."""
    first = bus_address.split(";")[0]
    pairs = dict(pair.split("=", 1) for pair in first.split(":", 1)[1].split(","))
    identity = "unix:path=" + os.path.realpath(pairs["path"])
    return hashlib.sha256(f"docker-credential-ecr/kernel/2\0{identity}".encode()).digest()[:8].hex()


def entries(scope_digest: str) -> dict:
    """{description suffix `kind:identity:registry`: (permissions, payload)} of one scope's keys."""
    keyring = search(KEY_SPEC_USER_KEYRING, b"keyring", KEYRING)
    if keyring is None:
        return {}
    found = {}
    listing = read(keyring)
    prefix = f"docker-credential-ecr:1:{scope_digest}:"
    for (serial,) in struct.iter_unpack("=i", listing):
        try:
            kind, uid, gid, permissions, description = describe(serial).split(";", 4)
            payload = read(serial)
        except OSError:
            continue  # gone meanwhile
        if kind == "user" and description.startswith(prefix):
            found[description[len(prefix):]] = (int(permissions, 16), payload)
    return found


def serials(scope_digest: str, prefix: str = "") -> list:
    """The serials of one scope's keys whose `kind:identity:registry` starts with `prefix`."""
    keyring = search(KEY_SPEC_USER_KEYRING, b"keyring", KEYRING)
    if keyring is None:
        return []
    wanted = f"docker-credential-ecr:1:{scope_digest}:{prefix}"
    found = []
    for (serial,) in struct.iter_unpack("=i", read(keyring)):
        try:
            description = describe(serial).split(";", 4)[4]
        except OSError:
            continue
        if description.startswith(wanted):
            found.append(serial)
    return found


def clear(scope_digest: str):
    """Removes one scope's keys (a test's leftovers)."""
    keyring = search(KEY_SPEC_USER_KEYRING, b"keyring", KEYRING)
    if keyring is None:
        return
    for (serial,) in struct.iter_unpack("=i", read(keyring)):
        try:
            if describe(serial).split(";", 4)[4].startswith(f"docker-credential-ecr:1:{scope_digest}:"):
                invalidate(serial)
        except OSError:
            pass


def refuse_key_calls(code: int = errno.EPERM):
    """Installs a seccomp filter in the calling process (use as a preexec_fn) that fails add_key,
    request_key and keyctl with `code` and allows everything else."""
    audit_arch = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}[platform.machine()]
    BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
    SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL = 0x7FFF0000, 0x00050000, 0x00000000

    def instruction(code_, jt, jf, k):
        return struct.pack("=HBBI", code_, jt, jf, k)

    program = [
        instruction(BPF_LD_W_ABS, 0, 0, 4),                    # seccomp_data.arch
        instruction(BPF_JEQ_K, 1, 0, audit_arch),
        instruction(BPF_RET_K, 0, 0, SECCOMP_RET_KILL),
        instruction(BPF_LD_W_ABS, 0, 0, 0),                    # seccomp_data.nr
        instruction(BPF_JEQ_K, 3, 0, CALLS["add_key"]),
        instruction(BPF_JEQ_K, 2, 0, CALLS["request_key"]),
        instruction(BPF_JEQ_K, 1, 0, CALLS["keyctl"]),
        instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | code),
    ]
    filters = ctypes.create_string_buffer(b"".join(program))
    fprog = struct.pack("=HxxxxxxQ", len(program), ctypes.addressof(filters))
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(120)
    fprog_buffer = ctypes.create_string_buffer(fprog)
    if LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog_buffer, 0, 0) != 0:
        os._exit(121)
