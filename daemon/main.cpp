// Placeholder until the CLI lands (ops::runCli).
int main() { return 0; }
