"""Sans-I/O protocol: the wire's words (actions, content types, close codes, fixed
room names), frames and the JSON codec. No asyncio, no sockets."""

from steeple.protocol.close_codes import CloseCode
from steeple.protocol.content_types import ContentType
from steeple.protocol.frames import Action, decode_frame, encode_frame, socket_id_frame

__all__ = ["Action", "CloseCode", "ContentType", "decode_frame", "encode_frame", "socket_id_frame"]
