/* spin - never returns: the runtime must stop it by the policy's fuel or time limit. */
int main(void)
{
    volatile unsigned long n = 0;
    for (;;)
        n++;
}
