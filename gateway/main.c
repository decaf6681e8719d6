/* placeholder replaced in this session */
int main(void) { return 0; }
