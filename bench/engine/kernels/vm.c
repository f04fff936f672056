/* vm.c - a small stack-machine bytecode interpreter running a program that sums a polynomial in a
 * loop (with a nested modulo loop). Exercises the dispatch pattern of interpreters: a switch in a
 * loop, an operand stack in memory and unpredictable indirect branches. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, AND, XOR, SHR, DUP, DROP, JNZ, JMP, LT, HALT };

#define REGS 4

static int64_t run(const int32_t *code, int64_t *regs)
{
    int64_t stack[64];
    int sp = 0;
    uint32_t pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = regs[code[pc++] & (REGS - 1)]; break;
        case STORE: regs[code[pc++] & (REGS - 1)] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] * (uint64_t)stack[sp]); break;
        case AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHR: sp--; stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] >> (stack[sp] & 63)); break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case DROP: sp--; break;
        case JNZ: { int32_t target = code[pc++]; if (stack[--sp] != 0) pc = (uint32_t)target; break; }
        case JMP: pc = (uint32_t)code[pc]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case HALT: return stack[sp - 1];
        default: return -1;
        }
        if (sp < 0 || sp > 60)
            return -2; /* keeps a malformed program from running off the stack */
    }
}

uint64_t bench_run(uint32_t n)
{
    /* r0 = counter, r1 = accumulator, r2 = limit
     * loop: acc = acc + ((i*i*3 + i) ^ (acc >> 3)) & 0xffffff ; i++ ; if i < limit goto loop */
    static const int32_t program[] = {
        /* 0 */ PUSH, 0, STORE, 0, PUSH, 1, STORE, 1,
        /* 8 */ LOAD, 0, DUP, MUL, PUSH, 3, MUL, LOAD, 0, ADD,
        /* 18 */ LOAD, 1, PUSH, 3, SHR, XOR, PUSH, 0xffffff, AND, LOAD, 1, ADD, STORE, 1,
        /* 32 */ LOAD, 0, PUSH, 1, ADD, DUP, STORE, 0,
        /* 40 */ LOAD, 2, LT, JNZ, 8,
        /* 45 */ LOAD, 1, HALT,
    };
    int64_t regs[REGS] = {0, 0, (int64_t)n * 1000, 0};
    int64_t result = run(program, regs);
    return (uint64_t)result;
}
