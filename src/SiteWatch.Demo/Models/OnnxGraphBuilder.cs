using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace SiteWatch.Demo.Models;

/// <summary>
/// Writes a small ONNX model (ModelProto, IR version 8) straight to the protobuf wire format, without a protobuf
/// library: inputs, outputs, initializers and nodes in the order added (ONNX wants nodes in topological order).
/// Used to build test graphs with known outputs and simple pre/post-processing graphs.
/// </summary>
public sealed class OnnxGraphBuilder
{
    // ModelProto: 1 ir_version, 2 producer_name, 7 graph, 8 opset_import, 14 metadata_props.
    // GraphProto: 1 node, 2 name, 5 initializer, 11 input, 12 output.
    // NodeProto: 1 input, 2 output, 3 name, 4 op_type, 5 attribute.
    // TensorProto: 1 dims, 2 data_type, 8 name, 9 raw_data. Element types: 1 FLOAT, 7 INT64.
    private const long IrVersion = 8;
    private const int ElementFloat = 1, ElementInt64 = 7;

    private readonly string _graphName;
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];
    private readonly List<byte[]> _initializers = [];
    private readonly List<byte[]> _nodes = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string graphName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        _graphName = graphName;
    }

    /// <summary>
    /// A float32 graph input. <paramref name="dims"/> holds the fixed sizes; where <paramref name="symbolicDims"/> has a
    /// non-null name at an index, that axis is dynamic under that name (its entry in dims is ignored). A negative
    /// entry in dims without a name is an anonymous dynamic axis.
    /// </summary>
    public void AddInput(string name, long[] dims, string?[]? symbolicDims = null) =>
        _inputs.Add(ValueInfo(Declare(name), dims, symbolicDims));

    /// <summary>A float32 graph output; dims as in <see cref="AddInput"/>.</summary>
    public void AddOutput(string name, long[] dims, string?[]? symbolicDims = null) =>
        _outputs.Add(ValueInfo(name, dims, symbolicDims));

    /// <summary>A float32 constant tensor (weights) of the given shape.</summary>
    public void AddInitializer(string name, long[] dims, ReadOnlySpan<float> values) =>
        _initializers.Add(Tensor(Declare(name), dims, ElementFloat, MemoryMarshal.AsBytes(values), values.Length));

    /// <summary>An int64 constant tensor (shapes, axes, indices) of the given shape.</summary>
    public void AddInitializer(string name, long[] dims, ReadOnlySpan<long> values) =>
        _initializers.Add(Tensor(Declare(name), dims, ElementInt64, MemoryMarshal.AsBytes(values), values.Length));

    /// <summary>A node of the default (ai.onnx) domain; its name is generated from its position and op type.</summary>
    public void AddNode(string opType, string[] inputs, string[] outputs, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        _nodes.Add(Message(s =>
        {
            foreach (var i in inputs)
            {
                WriteString(s, 1, i); // "" is a legal placeholder for an omitted optional input
            }
            foreach (var o in outputs)
            {
                WriteString(s, 2, Declare(o));
            }
            WriteString(s, 3, $"{opType}_{_nodes.Count}");
            WriteString(s, 4, opType);
            foreach (var a in attributes)
            {
                WriteBytes(s, 5, a.ToBytes());
            }
        }));
    }

    /// <summary>The serialised ModelProto, importing the default domain at <paramref name="opset"/>.</summary>
    public byte[] ToModelBytes(long opset = 17, IReadOnlyDictionary<string, string>? metadata = null, string producer = "SiteWatch")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(opset, 1);
        if (_outputs.Count == 0)
        {
            throw new InvalidOperationException("An ONNX graph needs at least one output.");
        }
        var graph = Message(s =>
        {
            foreach (var n in _nodes)
            {
                WriteBytes(s, 1, n);
            }
            WriteString(s, 2, _graphName);
            foreach (var t in _initializers)
            {
                WriteBytes(s, 5, t);
            }
            foreach (var i in _inputs)
            {
                WriteBytes(s, 11, i);
            }
            foreach (var o in _outputs)
            {
                WriteBytes(s, 12, o);
            }
        });
        return Message(s =>
        {
            WriteVarintField(s, 1, IrVersion);
            WriteString(s, 2, producer);
            WriteBytes(s, 7, graph);
            // OperatorSetIdProto: 1 domain ("" = ai.onnx), 2 version.
            WriteBytes(s, 8, Message(o =>
            {
                WriteString(o, 1, "");
                WriteVarintField(o, 2, opset);
            }));
            if (metadata is not null)
            {
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    // StringStringEntryProto: 1 key, 2 value.
                    WriteBytes(s, 14, Message(e =>
                    {
                        WriteString(e, 1, key);
                        WriteString(e, 2, value);
                    }));
                }
            }
        });
    }

    private string Declare(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_names.Add(name))
        {
            throw new ArgumentException($"The ONNX graph already has a tensor named '{name}'.", nameof(name));
        }
        return name;
    }

    private static byte[] Tensor(string name, long[] dims, int elementType, ReadOnlySpan<byte> data, int count)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long expected = 1;
        foreach (var d in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(dims));
            expected *= d;
        }
        if (expected != count)
        {
            throw new ArgumentException($"Initializer '{name}' has {count} values for a shape holding {expected}.", nameof(dims));
        }
        // raw_data is little-endian by definition; swap on a big-endian host.
        var raw = data.ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var size = elementType == ElementInt64 ? 8 : 4;
            for (var i = 0; i < raw.Length; i += size)
            {
                Array.Reverse(raw, i, size);
            }
        }
        return Message(s =>
        {
            if (dims.Length > 0)
            {
                WriteBytes(s, 1, Message(p =>
                {
                    foreach (var d in dims)
                    {
                        WriteVarint(p, (ulong)d);
                    }
                }));
            }
            WriteVarintField(s, 2, elementType);
            WriteString(s, 8, name);
            WriteBytes(s, 9, raw);
        });
    }

    // ValueInfoProto { 1 name, 2 type: TypeProto { 1 tensor_type: { 1 elem_type, 2 shape: TensorShapeProto {
    // 1 dim: Dimension { 1 dim_value | 2 dim_param } } } } }.
    private static byte[] ValueInfo(string name, long[] dims, string?[]? symbolicDims)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(dims);
        if (symbolicDims is not null && symbolicDims.Length != dims.Length)
        {
            throw new ArgumentException($"'{name}' has {dims.Length} dims but {symbolicDims.Length} symbolic names.", nameof(symbolicDims));
        }
        var shape = Message(s =>
        {
            for (var i = 0; i < dims.Length; i++)
            {
                var symbol = symbolicDims?[i];
                WriteBytes(s, 1, Message(d =>
                {
                    if (symbol is not null)
                    {
                        WriteString(d, 2, symbol);
                    }
                    else if (dims[i] >= 0)
                    {
                        WriteVarintField(d, 1, dims[i]);
                    }
                }));
            }
        });
        var tensor = Message(t =>
        {
            WriteVarintField(t, 1, ElementFloat);
            WriteBytes(t, 2, shape);
        });
        return Message(v =>
        {
            WriteString(v, 1, name);
            WriteBytes(v, 2, Message(type => WriteBytes(type, 1, tensor)));
        });
    }

    internal static byte[] Message(Action<Stream> write)
    {
        using var s = new MemoryStream();
        write(s);
        return s.ToArray();
    }

    internal static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    internal static void WriteVarintField(Stream s, int field, long value)
    {
        WriteVarint(s, (ulong)field << 3);
        WriteVarint(s, (ulong)value); // negative int64 is ten bytes of two's complement, as protobuf specifies
    }

    internal static void WriteBytes(Stream s, int field, ReadOnlySpan<byte> payload)
    {
        WriteVarint(s, (ulong)field << 3 | 2);
        WriteVarint(s, (ulong)payload.Length);
        s.Write(payload);
    }

    internal static void WriteString(Stream s, int field, string value) => WriteBytes(s, field, Encoding.UTF8.GetBytes(value));

    internal static void WriteFixed32Field(Stream s, int field, float value)
    {
        WriteVarint(s, (ulong)field << 3 | 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        s.Write(b);
    }
}

/// <summary>A node attribute (AttributeProto) of one of the kinds small graphs need.</summary>
public readonly record struct OnnxAttribute
{
    // AttributeProto: 1 name, 2 f, 3 i, 4 s, 7 floats, 8 ints, 20 type (1 FLOAT, 2 INT, 3 STRING, 6 FLOATS, 7 INTS).
    private enum Kind { Float = 1, Int = 2, String = 3, Floats = 6, Ints = 7 }

    private readonly Kind _kind;
    private readonly long[]? _ints;
    private readonly float[]? _floats;
    private readonly string? _text;

    private OnnxAttribute(string name, Kind kind, long[]? ints = null, float[]? floats = null, string? text = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        _kind = kind;
        _ints = ints;
        _floats = floats;
        _text = text;
    }

    public string Name { get; }

    public static OnnxAttribute Int(string name, long v) => new(name, Kind.Int, ints: [v]);

    public static OnnxAttribute Ints(string name, params long[] v) => new(name, Kind.Ints, ints: [.. v]);

    public static OnnxAttribute Float(string name, float v) => new(name, Kind.Float, floats: [v]);

    public static OnnxAttribute Floats(string name, params float[] v) => new(name, Kind.Floats, floats: [.. v]);

    public static OnnxAttribute String(string name, string v) => new(name, Kind.String, text: v);

    internal byte[] ToBytes()
    {
        var kind = _kind;
        var ints = _ints;
        var floats = _floats;
        var text = _text;
        var name = Name;
        return OnnxGraphBuilder.Message(s =>
        {
            OnnxGraphBuilder.WriteString(s, 1, name);
            switch (kind)
            {
                case Kind.Float:
                    OnnxGraphBuilder.WriteFixed32Field(s, 2, floats![0]);
                    break;
                case Kind.Int:
                    OnnxGraphBuilder.WriteVarintField(s, 3, ints![0]);
                    break;
                case Kind.String:
                    OnnxGraphBuilder.WriteString(s, 4, text!);
                    break;
                case Kind.Floats:
                    foreach (var f in floats!)
                    {
                        OnnxGraphBuilder.WriteFixed32Field(s, 7, f);
                    }
                    break;
                case Kind.Ints:
                    foreach (var i in ints!)
                    {
                        OnnxGraphBuilder.WriteVarintField(s, 8, i);
                    }
                    break;
            }
            OnnxGraphBuilder.WriteVarintField(s, 20, (long)kind);
        });
    }
}
