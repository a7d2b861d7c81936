// The baseline of benchmarks/footprint: a bare-metal program that does nothing.
int main() { return 0; }
