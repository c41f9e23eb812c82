#include <stdio.h>
int main(void){puts("plus7d");return 0;}
