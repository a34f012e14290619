/* The framed device protocol: CRCs, frame output, and the re-synchronising frame receiver. See protocol.h. */
#include "protocol.h"
#include "console.h"

uint16_t crc16_ccitt(uint16_t crc, const uint8_t *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) {
    crc ^= (uint16_t)(data[i] << 8);
    for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
  }
  return crc;
}

uint32_t crc32_update(uint32_t crc, const uint8_t *data, uint32_t length) {
  for (uint32_t i = 0; i < length; i++) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc;
}

static uint32_t read_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void protocol_send(uint8_t type, uint8_t sequence, const uint8_t *payload, uint32_t length) {
  uint8_t header[PROTOCOL_HEADER_BYTES] = {
      PROTOCOL_SYNC, PROTOCOL_VERSION, type, sequence, (uint8_t)length, (uint8_t)(length >> 8), 0, 0};
  const uint16_t header_crc = crc16_ccitt(0xFFFFu, header, 6);
  header[6] = (uint8_t)header_crc;
  header[7] = (uint8_t)(header_crc >> 8);
  uint32_t crc = crc32_update(0xFFFFFFFFu, header, PROTOCOL_HEADER_BYTES);
  crc = crc32_update(crc, payload, length) ^ 0xFFFFFFFFu;
  const uint8_t trailer[PROTOCOL_TRAILER_BYTES] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                                                   (uint8_t)(crc >> 24)};
  console_write(header, PROTOCOL_HEADER_BYTES);
  console_write(payload, length);
  console_write(trailer, PROTOCOL_TRAILER_BYTES);
}

void protocol_send_error(uint8_t sequence, uint8_t request, uint8_t code, const char *message) {
  uint8_t buffer[64];
  writer_t w = {buffer, 0, sizeof buffer, 0};
  put_u8(&w, request);
  put_u8(&w, code);
  put_string(&w, message);
  protocol_send(MESSAGE_ERROR, sequence, buffer, w.length);
}

static uint8_t rx[PROTOCOL_HEADER_BYTES + PROTOCOL_MAX_PAYLOAD + PROTOCOL_TRAILER_BYTES];
static uint32_t rx_count;
static uint32_t rx_handed_out; /* the bytes of the frame returned last time */

/* Drops `skip` bytes, then everything up to the next sync byte: nothing before it can start a frame. */
static void rx_drop(uint32_t skip) {
  while (skip < rx_count && rx[skip] != PROTOCOL_SYNC) skip++;
  for (uint32_t i = skip; i < rx_count; i++) rx[i - skip] = rx[i];
  rx_count -= skip;
}

/* 1 when a good frame starts the buffer; 0 when more bytes are needed. Bad frames are answered and dropped. */
static int rx_parse(frame_t *frame) {
  for (;;) {
    rx_drop(0);
    if (rx_count < PROTOCOL_HEADER_BYTES) return 0;
    const uint32_t length = (uint32_t)rx[4] | ((uint32_t)rx[5] << 8);
    const uint16_t header_crc = (uint16_t)(rx[6] | (rx[7] << 8));
    if (crc16_ccitt(0xFFFFu, rx, 6) != header_crc || length > PROTOCOL_MAX_PAYLOAD) {
      rx_drop(1); /* not a header: look for the next sync byte */
      continue;
    }
    if (rx[1] != PROTOCOL_VERSION) {
      protocol_send_error(rx[3], rx[2], ERROR_BAD_VERSION, "protocol version differs");
      rx_drop(PROTOCOL_HEADER_BYTES);
      continue;
    }
    const uint32_t total = PROTOCOL_HEADER_BYTES + length + PROTOCOL_TRAILER_BYTES;
    if (rx_count < total) return 0;
    const uint32_t crc = crc32_update(0xFFFFFFFFu, rx, PROTOCOL_HEADER_BYTES + length) ^ 0xFFFFFFFFu;
    if (crc != read_le32(rx + PROTOCOL_HEADER_BYTES + length)) {
      /* The header was good, so the sender learns at once that this sequence number must be sent again. */
      protocol_send_error(rx[3], rx[2], ERROR_BAD_FRAME, "frame checksum mismatch");
      rx_drop(1);
      continue;
    }
    frame->type = rx[2];
    frame->sequence = rx[3];
    frame->length = (uint16_t)length;
    frame->payload = rx + PROTOCOL_HEADER_BYTES;
    rx_handed_out = total;
    return 1;
  }
}

void protocol_take(uint8_t byte) {
  if (rx_handed_out) {
    rx_drop(rx_handed_out);
    rx_handed_out = 0;
  }
  /* protocol_next_frame runs after every byte and returns 0 only while less than one whole frame is buffered. */
  if (rx_count < sizeof rx) rx[rx_count++] = byte;
}

int protocol_next_frame(frame_t *frame) {
  if (rx_handed_out) {
    rx_drop(rx_handed_out);
    rx_handed_out = 0;
  }
  return rx_parse(frame);
}

int protocol_receiving(void) {
  return rx_count > rx_handed_out;
}

void put_u8(writer_t *w, uint8_t value) {
  put_bytes(w, &value, 1);
}

void put_u16(writer_t *w, uint16_t value) {
  const uint8_t bytes[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
  put_bytes(w, bytes, 2);
}

void put_u32(writer_t *w, uint32_t value) {
  const uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
  put_bytes(w, bytes, 4);
}

void put_bytes(writer_t *w, const void *data, uint32_t length) {
  if (length > w->capacity - w->length) {
    w->overflow = 1;
    return;
  }
  const uint8_t *bytes = (const uint8_t *)data;
  for (uint32_t i = 0; i < length; i++) w->data[w->length + i] = bytes[i];
  w->length += length;
}

void put_string(writer_t *w, const char *text) {
  uint32_t length = 0;
  while (text && text[length] && length < 255u) length++;
  put_u8(w, (uint8_t)length);
  put_bytes(w, text, length);
}

static const uint8_t *take(reader_t *r, uint32_t length) {
  if (length > r->length - r->offset) {
    r->short_read = 1;
    r->offset = r->length;
    return 0;
  }
  const uint8_t *p = r->data + r->offset;
  r->offset += length;
  return p;
}

uint8_t get_u8(reader_t *r) {
  const uint8_t *p = take(r, 1);
  return p ? p[0] : 0;
}

uint16_t get_u16(reader_t *r) {
  const uint8_t *p = take(r, 2);
  return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

uint32_t get_u32(reader_t *r) {
  const uint8_t *p = take(r, 4);
  return p ? read_le32(p) : 0;
}
