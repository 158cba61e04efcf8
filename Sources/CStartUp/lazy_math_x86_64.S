// The libm functions of lazy_math_functions.h, each a jump through its slot of
// cstartup_math_table, and the one way into lazy_math.c's resolver when the slot is still empty.
//
// The table is zero at start and lives in its own page of .data.rel.ro, so it is read-only from
// the moment the dynamic loader protects RELRO (-z relro), like the GOT; lazy_math.c makes that
// page writable only while it stores a resolved address, under a lock. Nothing is relocated: an
// empty slot is 0, so a start that calls no libm function touches neither the table nor libm.
//
// A first call arrives with the caller's arguments still in their registers (the integer and
// pointer ones in rdi, rsi, rdx, rcx, r8, r9; float, double and vector ones in xmm0-xmm7; long
// double ones on the stack, which is left as it was). They are saved, the resolver is called
// with the slot number, they are restored, and the resolved function is entered by a jump, so
// it returns straight to the caller. r11 is the System V ABI's scratch register: no argument
// lives in it.
#if defined(__x86_64__) && defined(__linux__)

    .section .data.rel.ro.cstartup_math_table, "aw", @progbits
    .p2align 12
    .globl cstartup_math_table
    .hidden cstartup_math_table
    .type cstartup_math_table, @object
cstartup_math_table:
    .zero 4096
    .size cstartup_math_table, 4096

    .text
    .p2align 4
    .type cstartup_math_first_call, @function
cstartup_math_first_call:
    .cfi_startproc
    push %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    mov %rsp, %rbp
    .cfi_def_cfa_register %rbp
    and $-16, %rsp
    sub $192, %rsp
    mov %rdi, 0(%rsp)
    mov %rsi, 8(%rsp)
    mov %rdx, 16(%rsp)
    mov %rcx, 24(%rsp)
    mov %r8, 32(%rsp)
    mov %r9, 40(%rsp)
    movdqa %xmm0, 64(%rsp)
    movdqa %xmm1, 80(%rsp)
    movdqa %xmm2, 96(%rsp)
    movdqa %xmm3, 112(%rsp)
    movdqa %xmm4, 128(%rsp)
    movdqa %xmm5, 144(%rsp)
    movdqa %xmm6, 160(%rsp)
    movdqa %xmm7, 176(%rsp)
    mov %eax, %edi
    call cstartup_resolve_math
    mov %rax, %r11
    mov 0(%rsp), %rdi
    mov 8(%rsp), %rsi
    mov 16(%rsp), %rdx
    mov 24(%rsp), %rcx
    mov 32(%rsp), %r8
    mov 40(%rsp), %r9
    movdqa 64(%rsp), %xmm0
    movdqa 80(%rsp), %xmm1
    movdqa 96(%rsp), %xmm2
    movdqa 112(%rsp), %xmm3
    movdqa 128(%rsp), %xmm4
    movdqa 144(%rsp), %xmm5
    movdqa 160(%rsp), %xmm6
    movdqa 176(%rsp), %xmm7
    mov %rbp, %rsp
    .cfi_def_cfa_register %rsp
    pop %rbp
    .cfi_def_cfa_offset 8
    jmp *%r11
    .cfi_endproc
    .size cstartup_math_first_call, .-cstartup_math_first_call

// One function: load its slot; jump to what it holds, or to the first call with the slot number in eax.
#define CSTARTUP_MATH(slot, name, version) \
    .p2align 4; .globl name; .hidden name; .type name, @function; \
    name: .cfi_startproc; \
    mov cstartup_math_table+8*(slot)(%rip), %r11; test %r11, %r11; jz 1f; jmp *%r11; \
    1: mov $(slot), %eax; jmp cstartup_math_first_call; \
    .cfi_endproc; .size name, .-name;
#include "lazy_math_functions.h"
#undef CSTARTUP_MATH

#endif

    .section .note.GNU-stack, "", @progbits
