"""The release binaries as they are shipped: the oldest glibc they run on, and the version they print.

The README ("Installing without a Swift toolchain") promises glibc 2.34 (Amazon Linux 2023, RHEL 9)
and a `version` that names the release and the git commit the binary was built from.
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPOSITORY, require

RELEASE = REPOSITORY / ".build/release"
GLIBC_FLOOR = (2, 34)
VERSION_LINE = re.compile(r"docker-credential-ecr (\d+\.\d+\.\d+) \(([0-9a-f]{7,40}(?:-dirty)?|commit unknown)\)\n")


def shipped_executables() -> list[str]:
    """The executables the product ships, from the one list in scripts/package."""
    listed = subprocess.run([REPOSITORY / "scripts/package", "--print-executables"],
                            capture_output=True, text=True, check=True, timeout=30)
    return listed.stdout.split()


def built_executables() -> list[Path]:
    """Every shipped executable the release build produced; docker-credential-ecr is always one."""
    built = [RELEASE / name for name in shipped_executables() if (RELEASE / name).is_file()]
    if RELEASE / "docker-credential-ecr" not in built:
        pytest.fail(f"{RELEASE}/docker-credential-ecr is missing: run ./scripts/build-release or ./test")
    return built


def glibc_symbols(executable: Path) -> dict[str, tuple[int, ...]]:
    """Each undefined dynamic symbol of `executable` with the glibc version it asks for (objdump -T)."""
    objdump = require("objdump", "apt-get install binutils")
    table = subprocess.run([objdump, "-T", executable], capture_output=True, text=True, check=True, timeout=60).stdout
    symbols = {}
    for line in table.splitlines():
        found = re.search(r"\*UND\*\s+\S+\s+\(GLIBC_([0-9.]+)\)\s+(\S+)$", line)
        if found:
            symbols[found.group(2)] = tuple(int(part) for part in found.group(1).split("."))
    return symbols


def test_release_binaries_need_at_most_glibc_2_34():
    for executable in built_executables():
        symbols = glibc_symbols(executable)
        assert symbols, f"objdump found no glibc symbols in {executable}"
        newer = {name: ".".join(map(str, version)) for name, version in symbols.items() if version > GLIBC_FLOOR}
        assert newer == {}, (f"{executable.name} needs a glibc newer than 2.34 for {newer}: "
                             "define the symbol in Sources/CGlibcCompat or stop using it")


def test_hypotf_is_defined_locally_not_taken_from_glibc_2_35():
    for executable in built_executables():
        assert "hypotf" not in glibc_symbols(executable), executable.name


def test_arc4random_is_defined_locally_not_taken_from_glibc_2_36():
    for executable in built_executables():
        assert "arc4random" not in glibc_symbols(executable), executable.name


def test_dl_find_object_is_defined_locally_not_taken_from_glibc_2_35():
    """The static libgcc's unwinder calls _dl_find_object (glibc 2.35); Sources/CGlibcCompat defines it."""
    for executable in built_executables():
        assert "_dl_find_object" not in glibc_symbols(executable), executable.name


UNWIND_CHECK = r"""
#include <cstdio>
#include <stdexcept>
#include <unwind.h>
__attribute__((noinline)) void thrower(int level) { if (level > 0) throw std::runtime_error("thrown"); }
static _Unwind_Reason_Code count(struct _Unwind_Context *, void *frames) { ++*(int *)frames; return _URC_NO_REASON; }
int main(int argc, char **) {
    int frames = 0;
    _Unwind_Backtrace(count, &frames);
    try { thrower(argc); } catch (const std::exception &error) { std::printf("%s %d\n", error.what(), frames); return 0; }
    return 1;
}
"""


def test_the_static_unwinder_finds_its_tables_through_the_local_dl_find_object(tmp_path):
    """libgcc linked in as scripts/build-release links it, with Sources/CGlibcCompat's _dl_find_object in place of
    glibc's: a C++ exception is caught and a backtrace walks the frames, with no libgcc_s loaded."""
    clang = require("clang", "the Swift toolchain's clang (PATH=/opt/swift/usr/bin:$PATH)")
    (tmp_path / "check.cpp").write_text(UNWIND_CHECK)
    program = tmp_path / "check"
    subprocess.run([clang, "-x", "c++", str(tmp_path / "check.cpp"), "-x", "c",
                    str(REPOSITORY / "Sources/CGlibcCompat/glibc_compat.c"), f"-I{REPOSITORY}/Sources/CGlibcCompat/include",
                    "-O1", "-o", str(program), "-static-libgcc", f"-L{REPOSITORY}/.build/static-libstdc++", "-lstdc++",
                    "-lm", "-pie", "-Wl,-z,relro,-z,now", "-ldl"], check=True, timeout=120)
    assert "_dl_find_object" not in glibc_symbols(program)
    assert "libgcc_s" not in subprocess.run(["ldd", program], capture_output=True, text=True, timeout=30).stdout
    ran = subprocess.run([program], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0, ran
    what, frames = ran.stdout.split()
    assert what == "thrown" and int(frames) >= 3, ran.stdout


LAZY_MATH_CHECK_MAIN = r"""
static int same(long double a, long double b) { return a == b || (a != a && b != b); }
static int read_only(const void *address) {
    unsigned long page = (unsigned long)address & ~4095UL, start, end;
    char permissions[8], line[512];
    FILE *maps = fopen("/proc/self/maps", "r");
    int found = -1;
    while (maps && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx %7s", &start, &end, permissions) == 3 && page >= start && page < end)
            found = permissions[0] == 'r' && permissions[1] == '-';
    if (maps) fclose(maps);
    return found;
}
static void *first_call(void *unused) { (void)unused; volatile double x = 0.5; return (void *)(long)(sin(x) > 0.47); }
int main(void) {
    if (dlopen("libm.so.6", RTLD_NOW | RTLD_NOLOAD) != NULL) { puts("libm loaded at start"); return 1; }
    if (read_only(cstartup_math_table) != 1) { puts("table writable at start"); return 1; }
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, first_call, NULL);
    for (int i = 0; i < 8; i++) { void *result; pthread_join(threads[i], &result); if (!result) { puts("sin in a thread"); return 1; } }
    void *libm = dlopen("libm.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (libm == NULL) { puts("libm not loaded by the first call"); return 1; }
    int checked = 0, failed = 0;
    static const double samples[] = {0.5, 2.25, -1.75, 10.0, 0.0};
    for (unsigned s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        volatile double x = samples[s], y = 1.25, z = -3.5;
        int quotient = 0, expected_quotient = 0, sign = 0, expected_sign = 0;
        (void)y; (void)z; (void)quotient; (void)expected_quotient; (void)sign; (void)expected_sign;
CALLS
    }
    if (read_only(cstartup_math_table) != 1) { puts("table writable after resolving"); return 1; }
    printf("%d %d\n", checked, failed);
    return failed != 0;
}
"""


def lazy_math_call(name: str) -> str:
    """C that calls `name` through the program's own definition and through libm.so.6's, and compares."""
    if name in ("jn", "yn"):
        arguments, real_arguments = "2, x", "2, x"
    elif name.startswith("remquo"):
        arguments, real_arguments = "x, y, &quotient", "x, y, &expected_quotient"
    elif name.startswith("lgamma"):
        arguments, real_arguments = "x, &sign", "x, &expected_sign"
    elif name.startswith("nan"):
        arguments = real_arguments = '""'
    elif name.startswith(("atan2", "fdim", "fmax", "fmin", "fmod", "hypot", "nextafter", "pow", "remainder")):
        arguments = real_arguments = "x, y"
    elif name.startswith("fma"):
        arguments = real_arguments = "x, y, z"
    else:
        arguments = real_arguments = "x"
    return (f"        {{ __typeof__(&{name}) real = (__typeof__(&{name}))dlsym(libm, \"{name}\");\n"
            f"          if (real == NULL || real == &{name}) {{ printf(\"{name}: not the program's own\\n\"); return 1; }}\n"
            f"          long double ours = {name}({arguments}), theirs = real({real_arguments}); checked++;\n"
            f"          if (!same(ours, theirs) || quotient != expected_quotient || sign != expected_sign) "
            f"{{ failed++; printf(\"{name}(%g) differs\\n\", (double)x); }} }}\n")


def test_libm_is_loaded_on_the_first_call_of_one_of_its_functions(tmp_path):
    """Sources/CStartUp defines the libm functions the static runtime refers to as jumps through a
    read-only table filled from libm.so.6 on first use (PERFORMANCE.md, "Start-up without libm and
    the runtime's argv search"). Linked as scripts/build-release links it (an empty libm.a, PIE,
    full RELRO): no libm.so.6 at start; the first call, from 8 threads at once, loads it; every one
    of the functions gives what libm's own gives, through the right argument registers (int,
    pointer, float, double, long double on the stack); and the table is read-only before and after."""
    clang = require("clang", "the Swift toolchain's clang (PATH=/opt/swift/usr/bin:$PATH)")
    source = REPOSITORY / "Sources/CStartUp"
    entries = re.findall(r'^CSTARTUP_MATH\((\d+), (\w+), "GLIBC_([0-9.]+)"\)$', (source / "lazy_math_functions.h").read_text(),
                         re.MULTILINE)
    assert [int(slot) for slot, _, _ in entries] == list(range(len(entries))) and len(entries) > 50, entries
    newer = [name for _, name, version in entries if tuple(int(part) for part in version.split(".")) > GLIBC_FLOOR]
    assert not newer, f"libm functions bound at a version newer than glibc 2.34: {newer}"
    names = [(slot, name) for slot, name, _ in entries]
    header = "#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <math.h>\n#include <pthread.h>\n#include <stdio.h>\n" \
             "extern void *cstartup_math_table[];\n"
    program_source = header + LAZY_MATH_CHECK_MAIN.replace("CALLS", "".join(lazy_math_call(name) for _, name in names))
    (tmp_path / "check.c").write_text(program_source)
    empty = tmp_path / "empty-libm"
    empty.mkdir()
    subprocess.run(["ar", "rc", str(empty / "libm.a")], check=True, timeout=30)
    program = tmp_path / "check"
    built = subprocess.run([clang, "-O0", "-fno-builtin", "-fPIE", "-pie", "-Wl,-z,relro,-z,now", "-o", str(program),
                            str(tmp_path / "check.c"), str(source / "lazy_math.c"), str(source / "lazy_math_x86_64.S"),
                            f"-L{empty}", "-lm", "-lpthread", "-ldl"], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    assert "libm.so" not in subprocess.run(["ldd", program], capture_output=True, text=True, timeout=30).stdout
    ran = subprocess.run([program], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    checked, failed = map(int, ran.stdout.split()[-2:])
    assert checked == 5 * len(names) and failed == 0, ran.stdout


def test_a_cache_hit_needs_no_libm_and_a_missing_libm_is_named_when_first_needed(helper, emulator):
    """The release binaries do not load libm.so.6 at start (Sources/CStartUp). With it unreadable
    (/dev/null bound over it in a private mount namespace) a cache hit still answers; the first
    call of a math function (the debug log's timings) stops with the loader's exit status, 127,
    and a message that names the program, the function and libm.so.6, and nothing on stdout."""
    unshare = require("unshare", "apt-get install util-linux")
    libm = Path(os.path.realpath("/lib/x86_64-linux-gnu/libm.so.6"))
    if not libm.is_file():
        pytest.fail(f"no libm.so.6 at {libm}")
    host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    warmed, _, err, status = helper.get(host, DOCKER_CREDENTIAL_ECR_BACKEND="file", **emulator.env())
    assert status == 0 and warmed["Username"] == "AWS", err
    without_libm = (unshare, "-m", "sh", "-c", f'mount --bind /dev/null "{libm}" && exec "$@"', "sh")

    hit = helper.run("get", stdin=host, prefix=without_libm, DOCKER_CREDENTIAL_ECR_BACKEND="file", **emulator.env())
    assert hit.returncode == 0 and json.loads(hit.stdout)["Secret"] == warmed["Secret"], hit
    logged = helper.run("get", stdin=host, prefix=without_libm, DOCKER_CREDENTIAL_ECR_BACKEND="file",
                        DOCKER_CREDENTIAL_ECR_LOG="debug", **emulator.env())
    stderr = logged.stderr.decode()
    assert logged.returncode == 127 and logged.stdout == b"", (logged.returncode, logged.stdout, stderr)
    assert re.search(r"^docker-credential-ecr: cannot load \w+ \(GLIBC_[0-9.]+\) from libm\.so\.6: ", stderr, re.MULTILINE), stderr


def test_release_binaries_are_hardened_and_start_light():
    """The link choices of scripts/build-release: position-independent with full RELRO (BIND_NOW
    and a GNU_RELRO segment), and, for start-up, the C++ library and libgcc linked in (neither
    libstdc++.so nor libgcc_s.so is loaded) and no export of the program's own symbols."""
    readelf = require("readelf", "apt-get install binutils")
    for executable in built_executables():
        header = subprocess.run([readelf, "-h", "-l", "-d", "--dyn-syms", "-W", executable], capture_output=True, text=True,
                                check=True, timeout=60).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", header)
        assert "libc.so.6" in needed and not any(name.startswith(("libstdc++", "libgcc_s")) for name in needed), \
            (executable.name, needed)
        assert re.search(r"Type:\s+DYN ", header), f"{executable.name} is not position-independent"
        assert re.search(r"\(FLAGS\)\s+.*\bBIND_NOW\b", header) or re.search(r"\(FLAGS_1\)\s+Flags:.*\bNOW\b", header), \
            f"{executable.name} is not linked with -z now"
        assert re.search(r"^\s+GNU_RELRO\s", header, re.MULTILINE), f"{executable.name} has no RELRO segment"
        exported = re.findall(r"^\s*\d+: [0-9a-f]+\s+\d+ \w+\s+\w+\s+\w+\s+\d+ (\S+)", header, re.MULTILINE)
        assert not [name for name in exported if name.startswith("$s")], f"{executable.name} exports Swift symbols"


def test_release_binaries_link_no_foundation_argument_parser_or_regex_modules():
    """Every start pays for the size of the image (PERFORMANCE.md, "Without FoundationEssentials"):
    FoundationEssentials with the libdispatch it brings, swift-argument-parser (which brings
    FoundationEssentials back) and the regular-expression modules (linked by the standard
    library's `contains(_:)` and `firstRange(of:)` on strings) stay out of both binaries. Their
    type metadata names would show in the image if any of them were linked."""
    modules = [b"FoundationEssentials", b"ArgumentParser", b"_StringProcessing", b"_RegexParser", b"dispatch_queue"]
    for executable in built_executables():
        image = executable.read_bytes()
        linked = [module.decode() for module in modules if module in image]
        assert not linked, f"{executable.name} links {linked}"


def test_the_command_line_comes_from_glibc_not_from_a_search_of_proc_self_maps(tmp_path):
    """Sources/CStartUp takes argv from glibc's call of the executable's constructors, so the static
    runtime's constructor that reads /proc/self/maps with sscanf at every start is not linked
    (PERFORMANCE.md, "Start-up without the runtime's argv search"). Every argument still reaches
    the program whole: one with a space, an empty one, and a long list."""
    strace = require("strace", "apt-get install strace")
    for executable in built_executables():
        log = tmp_path / f"{executable.name}.strace"
        subprocess.run([strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log), executable, "--help"],
                       capture_output=True, timeout=60, check=True)
        opened = log.read_text()
        assert "openat" in opened or "open(" in opened, f"strace saw no file opened by {executable.name}: {opened!r}"
        assert "/proc/self/maps" not in opened, f"{executable.name} reads /proc/self/maps at start:\n{opened}"
    helper = RELEASE / "docker-credential-ecr"
    spaced = subprocess.run([helper, "bog us"], capture_output=True, text=True, timeout=30)
    assert spaced.returncode == 1 and 'unknown action "bog us"' in spaced.stdout, spaced
    empty = subprocess.run([helper, ""], capture_output=True, text=True, timeout=30)
    assert empty.returncode == 1 and 'unknown action ""' in empty.stdout, empty
    registries = [f"{account:012d}.dkr.ecr.eu-west-1.amazonaws.com" for account in range(1, 201)]
    config = tmp_path / "docker"
    listed = subprocess.run([helper, "configure", "--dry-run", *registries], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DOCKER_CONFIG": str(config)})
    assert listed.returncode == 0, listed
    assert all(registry in listed.stdout for registry in (registries[0], registries[99], registries[-1])), listed.stdout


def test_version_names_the_release_and_the_commit_it_was_built_from():
    line = subprocess.run([RELEASE / "docker-credential-ecr", "version"], capture_output=True, text=True,
                          timeout=30).stdout
    found = VERSION_LINE.fullmatch(line)
    assert found, f"unexpected version line {line!r}"
    number, commit = found.groups()
    source = (REPOSITORY / "Sources/ECRCredentials/Support/ToolVersion.swift").read_text()
    assert re.search(rf'\b(public |package )?static let number = "{re.escape(number)}"', source), source

    git = require("git", "apt-get install git")
    toplevel = subprocess.run([git, "rev-parse", "--show-toplevel"], cwd=REPOSITORY, capture_output=True, text=True)
    if toplevel.returncode != 0 or Path(toplevel.stdout.strip()).resolve() != REPOSITORY.resolve():
        assert commit == "commit unknown", "a build outside git cannot know its commit"
        return
    assert commit != "commit unknown", "scripts/build-release stamps the commit inside a git work tree"
    stamped = subprocess.run([git, "rev-parse", "--verify", "--quiet", commit.removesuffix("-dirty") + "^{commit}"],
                             cwd=REPOSITORY, capture_output=True, text=True).stdout.strip()
    head = subprocess.run([git, "rev-parse", "HEAD"], cwd=REPOSITORY, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert stamped == head, f"the binary says it was built from {commit}, HEAD is {head[:12]}: run ./scripts/build-release"



def test_the_link_order_list_names_functions_that_exist():
    """scripts/link-order.txt places the hit path's functions together; the linker silently skips
    names that no longer exist, so a list left behind by renames loses its effect unnoticed. Most of
    this package's functions it names must still be defined by the release build's objects."""
    nm = require("nm", "apt-get install binutils")
    listed = [line.strip()[len(".text."):] for line in (REPOSITORY / "scripts/link-order.txt").read_text().splitlines()
              if line.strip().startswith(".text.")]
    ours = ("$s14ECRCredentials", "$s21docker_credential_ecr", "$s23ecr_credential_provider")
    wanted = {name for name in listed if name.startswith(ours)}
    assert len(wanted) > 100, f"scripts/link-order.txt names only {len(wanted)} functions of this package"
    objects = [path for target in ("ECRCredentials", "docker_credential_ecr", "ecr_credential_provider")
               for path in (RELEASE / f"{target}.build").glob("*.o")]
    if not objects:
        pytest.fail(f"no release objects under {RELEASE}: run ./scripts/build-release or ./test")
    table = subprocess.run([nm, "--defined-only", *objects], capture_output=True, text=True, check=True, timeout=120).stdout
    defined = {fields[-1] for fields in (line.split() for line in table.splitlines()) if len(fields) == 3}
    gone = sorted(wanted - defined)
    assert len(gone) <= len(wanted) // 10, (
        f"scripts/link-order.txt is stale: {len(gone)} of its {len(wanted)} functions of this package no longer exist "
        f"(e.g. {gone[:3]}); run scripts/update-link-order")
