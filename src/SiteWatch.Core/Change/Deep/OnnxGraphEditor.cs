using System.Buffers.Binary;
using System.Text;

namespace SiteWatch.Core.Change.Deep;

/// <summary>
/// The little ONNX graph surgery deep CVA needs, done on the protobuf wire format in memory (no protobuf library):
/// intermediate tensors become the graph's outputs, nodes and initializers that do not feed them are removed, the
/// image input gets symbolic batch, height and width, and the exporter's fixed-size shape annotations (value_info)
/// are dropped so that ONNX Runtime infers shapes for any tile size. Fields the edit does not touch are copied byte
/// for byte.
/// </summary>
internal static class OnnxGraphEditor
{
    // ModelProto.graph; GraphProto.node, initializer, input, output, value_info; NodeProto.input, output;
    // TensorProto.name; ValueInfoProto.name.
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    private const int NodeInput = 1, NodeOutput = 2;
    private const int TensorName = 8;
    private const int ValueInfoName = 1;

    /// <summary>
    /// Returns a copy of <paramref name="model"/> whose outputs are exactly <paramref name="outputs"/> (float tensors),
    /// keeping only the nodes they depend on, with a [N, channels, H, W] float input named <paramref name="inputName"/>.
    /// </summary>
    public static byte[] ExposeTensors(ReadOnlySpan<byte> model, string inputName, int channels, IReadOnlyList<string> outputs)
    {
        if (outputs.Count == 0)
        {
            throw new ArgumentException("At least one output tensor is needed.", nameof(outputs));
        }
        var modelFields = Fields(model);
        var graphField = modelFields.SingleOrDefault(f => f.Number == ModelGraph && f.WireType == 2);
        if (graphField.Length == 0)
        {
            throw new InvalidDataException("The ONNX model has no graph.");
        }
        var graph = model.Slice(graphField.Offset, graphField.Length);
        var graphFields = Fields(graph);

        // Nodes in file order (ONNX requires topological order), with their input and output tensor names.
        var nodes = new List<(string[] Inputs, string[] Outputs)>();
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in graphFields.Where(f => f.Number == GraphNode))
        {
            var node = graph.Slice(f.Offset, f.Length);
            var nodeFields = Fields(node);
            var ins = new List<string>();
            var outs = new List<string>();
            foreach (var x in nodeFields)
            {
                if (x.Number == NodeInput && x.WireType == 2)
                {
                    ins.Add(Utf8(node, x));
                }
                else if (x.Number == NodeOutput && x.WireType == 2)
                {
                    outs.Add(Utf8(node, x));
                }
            }
            foreach (var o in outs)
            {
                producer[o] = nodes.Count;
            }
            nodes.Add(([.. ins], [.. outs]));
        }

        // Walk back from the wanted outputs.
        var keep = new bool[nodes.Count];
        var needed = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        foreach (var o in outputs)
        {
            if (!producer.ContainsKey(o))
            {
                throw new ArgumentException($"The ONNX graph has no tensor '{o}'.", nameof(outputs));
            }
            stack.Push(o);
        }
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!needed.Add(t))
            {
                continue;
            }
            if (producer.TryGetValue(t, out var n) && !keep[n])
            {
                keep[n] = true;
                foreach (var i in nodes[n].Inputs.Where(i => i.Length > 0))
                {
                    stack.Push(i);
                }
            }
        }
        if (!needed.Contains(inputName))
        {
            throw new ArgumentException($"The requested tensors do not depend on the input '{inputName}'.", nameof(inputName));
        }

        using var g = new MemoryStream(model.Length);
        var inputWritten = false;
        var nodeIndex = 0;
        foreach (var f in graphFields)
        {
            switch (f.Number)
            {
                case GraphNode:
                    if (keep[nodeIndex++])
                    {
                        Copy(g, graph, f);
                    }
                    break;
                case GraphInitializer:
                    if (needed.Contains(NameOf(graph, f, TensorName)))
                    {
                        Copy(g, graph, f);
                    }
                    break;
                case GraphInput:
                    var name = NameOf(graph, f, ValueInfoName);
                    if (name == inputName)
                    {
                        WriteBytes(g, GraphInput, ImageInput(inputName, channels));
                        inputWritten = true;
                    }
                    else if (needed.Contains(name))
                    {
                        Copy(g, graph, f); // IR < 4 lists initializers among the inputs
                    }
                    break;
                case GraphOutput:
                case GraphValueInfo:
                    break; // replaced below / left to shape inference
                default:
                    Copy(g, graph, f);
                    break;
            }
        }
        if (!inputWritten)
        {
            throw new ArgumentException($"The ONNX graph has no input '{inputName}'.", nameof(inputName));
        }
        foreach (var o in outputs)
        {
            WriteBytes(g, GraphOutput, FloatValueInfo(o));
        }

        using var m = new MemoryStream(model.Length);
        foreach (var f in modelFields)
        {
            if (f.Number == ModelGraph && f.WireType == 2)
            {
                WriteBytes(m, ModelGraph, g.ToArray());
            }
            else
            {
                Copy(m, model, f);
            }
        }
        return m.ToArray();
    }

    /// <summary>One field of a message: number, wire type, where the whole field (tag included) starts, and its payload.</summary>
    private readonly record struct Field(int Number, int WireType, int Start, int End, int Offset, int Length, ulong Varint);

    private static List<Field> Fields(ReadOnlySpan<byte> message)
    {
        var fields = new List<Field>();
        var pos = 0;
        while (pos < message.Length)
        {
            var start = pos;
            var tag = ReadVarint(message, ref pos);
            var number = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    var v = ReadVarint(message, ref pos);
                    fields.Add(new Field(number, wire, start, pos, pos, 0, v));
                    break;
                case 1:
                    Need(message, pos, 8);
                    fields.Add(new Field(number, wire, start, pos + 8, pos, 8, BinaryPrimitives.ReadUInt64LittleEndian(message.Slice(pos, 8))));
                    pos += 8;
                    break;
                case 2:
                    var len = ReadVarint(message, ref pos);
                    if (len > (ulong)(message.Length - pos))
                    {
                        throw new InvalidDataException("Truncated ONNX protobuf field.");
                    }
                    fields.Add(new Field(number, wire, start, pos + (int)len, pos, (int)len, 0));
                    pos += (int)len;
                    break;
                case 5:
                    Need(message, pos, 4);
                    fields.Add(new Field(number, wire, start, pos + 4, pos, 4, BinaryPrimitives.ReadUInt32LittleEndian(message.Slice(pos, 4))));
                    pos += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wire} in the ONNX model.");
            }
        }
        return fields;
    }

    private static void Need(ReadOnlySpan<byte> message, int pos, int count)
    {
        if (pos + count > message.Length)
        {
            throw new InvalidDataException("Truncated ONNX protobuf field.");
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new InvalidDataException("Truncated ONNX protobuf varint.");
            }
            var b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("Malformed ONNX protobuf varint.");
    }

    private static string Utf8(ReadOnlySpan<byte> message, Field f) => Encoding.UTF8.GetString(message.Slice(f.Offset, f.Length));

    /// <summary>The string field <paramref name="nameField"/> of the sub-message in field <paramref name="f"/>.</summary>
    private static string NameOf(ReadOnlySpan<byte> message, Field f, int nameField)
    {
        var sub = message.Slice(f.Offset, f.Length);
        foreach (var x in Fields(sub))
        {
            if (x.Number == nameField && x.WireType == 2)
            {
                return Utf8(sub, x);
            }
        }
        return "";
    }

    private static void Copy(Stream s, ReadOnlySpan<byte> message, Field f) => s.Write(message[f.Start..f.End]);

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    private static void WriteBytes(Stream s, int field, ReadOnlySpan<byte> payload)
    {
        WriteVarint(s, (ulong)field << 3 | 2);
        WriteVarint(s, (ulong)payload.Length);
        s.Write(payload);
    }

    private static void WriteString(Stream s, int field, string value) => WriteBytes(s, field, Encoding.UTF8.GetBytes(value));

    private static void WriteVarintField(Stream s, int field, ulong value)
    {
        WriteVarint(s, (ulong)field << 3);
        WriteVarint(s, value);
    }

    private static byte[] Message(Action<Stream> write)
    {
        using var s = new MemoryStream();
        write(s);
        return s.ToArray();
    }

    // ValueInfoProto { 1 name, 2 type: TypeProto { 1 tensor_type: Tensor { 1 elem_type, 2 shape: TensorShapeProto { 1 dim:
    // Dimension { 1 dim_value | 2 dim_param } } } } }; elem_type 1 = FLOAT.
    private static byte[] ImageInput(string name, int channels)
    {
        var shape = Message(s =>
        {
            WriteBytes(s, 1, Message(d => WriteString(d, 2, "batch")));
            WriteBytes(s, 1, Message(d => WriteVarintField(d, 1, (ulong)channels)));
            WriteBytes(s, 1, Message(d => WriteString(d, 2, "height")));
            WriteBytes(s, 1, Message(d => WriteString(d, 2, "width")));
        });
        return ValueInfo(name, shape);
    }

    private static byte[] FloatValueInfo(string name) => ValueInfo(name, null);

    private static byte[] ValueInfo(string name, byte[]? shape)
    {
        var tensor = Message(t =>
        {
            WriteVarintField(t, 1, 1);
            if (shape is not null)
            {
                WriteBytes(t, 2, shape);
            }
        });
        return Message(v =>
        {
            WriteString(v, 1, name);
            WriteBytes(v, 2, Message(type => WriteBytes(type, 1, tensor)));
        });
    }
}
