/*
 * The framed device protocol, firmware side (the host side is src/agent/frame.ts and protocol.ts).
 *
 *   0      sync 0xA5
 *   1      protocol version
 *   2      message type
 *   3      sequence number (a response echoes its request's)
 *   4..5   payload length, little-endian, at most PROTOCOL_MAX_PAYLOAD
 *   6..7   CRC-16/CCITT-FALSE of bytes 0..5
 *   8..    payload
 *   end    CRC-32 (ISO-HDLC) of header and payload, little-endian
 *
 * The header has its own check so that a corrupted length never makes the receiver wait for bytes that will not
 * come; on any bad frame the receiver re-synchronises on the next sync byte after the bad frame's start.
 */
#ifndef TINYEDGE_PROTOCOL_H
#define TINYEDGE_PROTOCOL_H

#include <stdint.h>
#include "protocol_ids.h"

#define PROTOCOL_HEADER_BYTES 8u
#define PROTOCOL_TRAILER_BYTES 4u

typedef struct {
  uint8_t type;
  uint8_t sequence;
  uint16_t length;
  const uint8_t *payload; /* valid until the next protocol_receive */
} frame_t;

/*
 * The receiver is fed byte by byte (the console also carries the MLPerf text protocol: main.c decides which bytes
 * are ours, README.md "One console, two protocols"). protocol_take buffers a byte; protocol_next_frame returns 1
 * with the next well-formed frame of this protocol version once one is complete, answering bad ones with an ERROR;
 * call it after every protocol_take, until it returns 0, so the buffer never holds more than one frame.
 * protocol_receiving says whether a frame has started and is not complete yet.
 */
void protocol_take(uint8_t byte);
int protocol_next_frame(frame_t *frame);
int protocol_receiving(void);
void protocol_send(uint8_t type, uint8_t sequence, const uint8_t *payload, uint32_t length);
void protocol_send_error(uint8_t sequence, uint8_t request, uint8_t code, const char *message);

uint16_t crc16_ccitt(uint16_t crc, const uint8_t *data, uint32_t length);
uint32_t crc32_update(uint32_t crc, const uint8_t *data, uint32_t length);

/* Little-endian payload building and parsing; overflow and short reads are remembered, not undefined. */
typedef struct {
  uint8_t *data;
  uint32_t length;
  uint32_t capacity;
  int overflow;
} writer_t;

void put_u8(writer_t *w, uint8_t value);
void put_u16(writer_t *w, uint16_t value);
void put_u32(writer_t *w, uint32_t value);
void put_bytes(writer_t *w, const void *data, uint32_t length);
/* A string as a length byte and at most 255 bytes; NULL is the empty string. */
void put_string(writer_t *w, const char *text);

typedef struct {
  const uint8_t *data;
  uint32_t length;
  uint32_t offset;
  int short_read;
} reader_t;

uint8_t get_u8(reader_t *r);
uint16_t get_u16(reader_t *r);
uint32_t get_u32(reader_t *r);

#endif
