using System.Buffers.Binary;

namespace SiteWatch.Video.Ts;

// Program-specific information: PAT and PMT sections reassembled across packets, CRC-checked, and the PMT's
// streams and descriptors classified (video, audio, KLV by registration descriptor or stream type).
public sealed partial class TsDemuxer
{
    private void PushSection(PidState state, ReadOnlySpan<byte> payload, bool pusi, long position)
    {
        var psi = state.Section ??= new SectionBuffer();
        if (pusi)
        {
            int pointer = payload[0];
            if (1 + pointer > payload.Length)
            {
                Diagnostics.Record(TsErrorKind.PsiError, position, state.Pid, $"pointer_field {pointer} beyond the packet");
                psi.Reset();
                return;
            }

            if (psi.Active)
            {
                AppendSection(state, psi, payload.Slice(1, pointer), position);
            }

            psi.Reset();
            payload = payload[(1 + pointer)..];
        }
        else if (!psi.Active)
        {
            return;
        }

        AppendSection(state, psi, payload, position);
    }

    private void AppendSection(PidState state, SectionBuffer psi, ReadOnlySpan<byte> data, long position)
    {
        while (!data.IsEmpty)
        {
            if (!psi.Active)
            {
                if (data[0] == 0xFF)
                {
                    return; // stuffing after the last section
                }

                psi.Active = true;
                psi.Length = 0;
            }

            var need = psi.Length < 3 ? 3 - psi.Length : psi.Total - psi.Length;
            var take = Math.Min(need, data.Length);
            data[..take].CopyTo(psi.Data.AsSpan(psi.Length));
            psi.Length += take;
            data = data[take..];
            if (psi.Length == 3)
            {
                var sectionLength = ((psi.Data[1] & 0x0F) << 8) | psi.Data[2];
                if (sectionLength > 1021)
                {
                    Diagnostics.Record(TsErrorKind.PsiError, position, state.Pid, $"section_length {sectionLength} over 1021");
                    psi.Reset();
                    return;
                }

                psi.Total = 3 + sectionLength;
            }

            if (psi.Length >= 3 && psi.Length == psi.Total)
            {
                OnSection(state, psi.Data.AsSpan(0, psi.Total), position);
                psi.Active = false;
            }
        }
    }

    private void OnSection(PidState state, ReadOnlySpan<byte> section, long position)
    {
        if ((section[1] & 0x80) == 0 || section.Length < 12)
        {
            return; // not a long-form section: nothing this demuxer reads
        }

        if (Crc32Mpeg.Compute(section) != 0)
        {
            Diagnostics.Record(TsErrorKind.PsiCrcError, position, state.Pid, $"CRC mismatch in table 0x{section[0]:X2}");
            return;
        }

        var crc = BinaryPrimitives.ReadUInt32BigEndian(section[^4..]);
        if ((section[5] & 1) == 0 || (state.LastSectionCrc == crc && state.HasSection))
        {
            return; // not yet applicable, or a repeat of what we already parsed
        }

        state.LastSectionCrc = crc;
        state.HasSection = true;
        var body = section[8..^4];
        if (state.Kind == PidKind.Pat && section[0] == 0x00)
        {
            for (var i = 0; i + 4 <= body.Length; i += 4)
            {
                var program = BinaryPrimitives.ReadUInt16BigEndian(body[i..]);
                var pmtPid = ((body[i + 2] & 0x1F) << 8) | body[i + 3];
                if (program == 0)
                {
                    continue; // network PID
                }

                var pmt = GetState(pmtPid);
                if (pmt.Kind == PidKind.None)
                {
                    pmt.Kind = PidKind.Pmt;
                    pmt.ProgramNumber = program;
                }
            }
        }
        else if (state.Kind == PidKind.Pmt && section[0] == 0x02)
        {
            ParsePmt(state, BinaryPrimitives.ReadUInt16BigEndian(section[3..]), body, position);
        }
    }

    private void ParsePmt(PidState pmtState, int program, ReadOnlySpan<byte> body, long position)
    {
        if (body.Length < 4)
        {
            Diagnostics.Record(TsErrorKind.PsiError, position, pmtState.Pid, "PMT too short");
            return;
        }

        var pcrPid = ((body[0] & 0x1F) << 8) | body[1];
        var programInfoLength = ((body[2] & 0x0F) << 8) | body[3];
        var pos = 4 + programInfoLength;
        while (pos + 5 <= body.Length)
        {
            var streamType = body[pos];
            var pid = ((body[pos + 1] & 0x1F) << 8) | body[pos + 2];
            var infoLength = ((body[pos + 3] & 0x0F) << 8) | body[pos + 4];
            pos += 5;
            if (pos + infoLength > body.Length)
            {
                Diagnostics.Record(TsErrorKind.PsiError, position, pmtState.Pid, $"ES_info_length {infoLength} runs past the PMT");
                return;
            }

            var descriptors = body.Slice(pos, infoLength);
            pos += infoLength;
            var state = GetState(pid);
            var info = state.Stream;
            if (info is null)
            {
                info = new TsElementaryStream(pid, program, streamType);
                state.Stream = info;
                _streams.Add(info);
            }

            info.ProgramNumber = program;
            info.StreamType = streamType;
            state.PcrPid = pcrPid;
            ReadDescriptors(info, descriptors);
            Classify(state, info);
        }
    }

    private static void ReadDescriptors(TsElementaryStream info, ReadOnlySpan<byte> d)
    {
        var pos = 0;
        while (pos + 2 <= d.Length)
        {
            var tag = d[pos];
            var len = d[pos + 1];
            if (pos + 2 + len > d.Length)
            {
                return;
            }

            var body = d.Slice(pos + 2, len);
            pos += 2 + len;
            if (tag == 0x05 && len >= 4)
            {
                info.Registration = FourCc(body);
            }
            else if (tag == 0x26 && len >= 5)
            {
                // metadata_descriptor: application format (2, + 4 if 0xFFFF), format (1, + 4 if 0xFF), service id.
                var i = 2;
                if (BinaryPrimitives.ReadUInt16BigEndian(body) == 0xFFFF)
                {
                    i += 4;
                }

                if (i < body.Length)
                {
                    var format = body[i++];
                    if (format == 0xFF && i + 4 <= body.Length)
                    {
                        info.MetadataFormat = FourCc(body[i..]);
                        i += 4;
                    }
                    else if (format != 0xFF)
                    {
                        info.MetadataFormat = $"0x{format:X2}";
                    }

                    if (i < body.Length)
                    {
                        info.MetadataServiceId = body[i];
                    }
                }
            }
        }
    }

    private static string FourCc(ReadOnlySpan<byte> b)
    {
        Span<char> c = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            c[i] = b[i] is >= 0x20 and < 0x7F ? (char)b[i] : '?';
        }

        return new string(c);
    }

    private void Classify(PidState state, TsElementaryStream info)
    {
        var type = info.StreamType;
        var klv = info.Registration == "KLVA" || info.MetadataFormat == "KLVA";
        (info.Kind, info.Codec) = type switch
        {
            0x15 => (TsStreamKind.KlvSync, "KLV (synchronous metadata)"),
            0x06 when klv => (TsStreamKind.KlvAsync, "KLV (asynchronous)"),
            0x06 when info.Registration == "HEVC" => (TsStreamKind.Video, "H.265"),
            0x06 => (TsStreamKind.PrivateData, "PES private data"),
            0x01 => (TsStreamKind.Video, "MPEG-1 Video"),
            0x02 => (TsStreamKind.Video, "MPEG-2 Video"),
            0x10 => (TsStreamKind.Video, "MPEG-4 Visual"),
            0x1B => (TsStreamKind.Video, "H.264"),
            0x20 => (TsStreamKind.Video, "H.264 MVC"),
            0x24 => (TsStreamKind.Video, "H.265"),
            0x33 => (TsStreamKind.Video, "H.266"),
            0x42 => (TsStreamKind.Video, "AVS"),
            0xD1 => (TsStreamKind.Video, "Dirac"),
            0xEA => (TsStreamKind.Video, "VC-1"),
            0x03 or 0x04 => (TsStreamKind.Audio, "MPEG Audio"),
            0x0F => (TsStreamKind.Audio, "AAC"),
            0x11 => (TsStreamKind.Audio, "AAC LATM"),
            0x81 => (TsStreamKind.Audio, "AC-3"),
            0x87 => (TsStreamKind.Audio, "E-AC-3"),
            _ => (TsStreamKind.Other, $"stream_type 0x{type:X2}"),
        };

        if (info.Kind == TsStreamKind.KlvSync && info.MetadataFormat is not null && info.MetadataFormat != "KLVA")
        {
            (info.Kind, info.Codec) = (TsStreamKind.Other, $"Metadata ({info.MetadataFormat})");
        }

        state.Kind = info.Kind switch
        {
            TsStreamKind.KlvAsync or TsStreamKind.KlvSync => PidKind.KlvPes,
            TsStreamKind.PrivateData when DetectUnregisteredKlv => PidKind.ProbePes,
            // User-private stream types (0x80 and up) that are not a known codec: older encoders put KLV there.
            TsStreamKind.Other when DetectUnregisteredKlv && type >= 0x80 => PidKind.ProbePes,
            TsStreamKind.Video or TsStreamKind.Audio => PidKind.TimedPes,
            _ => PidKind.Ignored,
        };
    }

    private sealed class SectionBuffer
    {
        public byte[] Data { get; } = new byte[1024 + 3];

        public int Length { get; set; }

        public int Total { get; set; }

        public bool Active { get; set; }

        public void Reset()
        {
            Active = false;
            Length = 0;
            Total = 0;
        }
    }
}
