/*
 * gc/sizeclass.c -- the small-object size classes.
 *
 * Owns: Go 1.19's table of 67 size classes (8 B .. 32 KiB, at most 12.5%
 * tail waste per span, see docs/gc.md) and the size -> class lookup
 * tables built from it at start-up.
 * May call: nothing.
 * Invariant: gc__size_class(n) is the smallest class whose size is >= n.
 */
#include "internal.h"

const uint16_t gc__class_size[GC_NUM_CLASSES] = {
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208,
    224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704,
    768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072,
    3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760,
    24576, 27264, 28672, 32768};

const uint8_t gc__class_npages[GC_NUM_CLASSES] = {
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3,
    2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4};

uint8_t gc__size_to_class8[1024 / 8 + 1];
uint8_t gc__size_to_class128[(GC_MAX_SMALL - 1024) / 128 + 1];

/* Fills the two lookup tables (8-byte steps to 1 KiB, 128-byte steps on). */
void gc__sizeclass_init(void)
{
    int c = 1;
    for (size_t i = 0; i < sizeof gc__size_to_class8; i++) {
        size_t size = i * 8;
        while (gc__class_size[c] < size)
            c++;
        gc__size_to_class8[i] = (uint8_t)(i == 0 ? 0 : c);
    }
    c = 1;
    for (size_t i = 0; i < sizeof gc__size_to_class128; i++) {
        size_t size = 1024 + i * 128;
        while (gc__class_size[c] < size)
            c++;
        gc__size_to_class128[i] = (uint8_t)c;
    }
}
