using System.Runtime.InteropServices;

namespace SiteWatch.Gdal;

/// <summary>Bridges GDAL's GDALProgressFunc to <see cref="IProgress{T}"/> and cancellation.</summary>
internal sealed unsafe class NativeProgress : IDisposable
{
    private readonly IProgress<double>? _progress;
    private readonly CancellationToken _cancel;
    private GCHandle _self;

    public NativeProgress(IProgress<double>? progress, CancellationToken cancel)
    {
        _progress = progress;
        _cancel = cancel;
        _self = GCHandle.Alloc(this);
    }

    public nint Function => (nint)(delegate* unmanaged<double, nint, nint, int>)&Callback;
    public nint Argument => GCHandle.ToIntPtr(_self);

    [UnmanagedCallersOnly]
    private static int Callback(double complete, nint message, nint argument)
    {
        var self = (NativeProgress)GCHandle.FromIntPtr(argument).Target!;
        try
        {
            self._progress?.Report(Math.Clamp(complete, 0, 1));
        }
        catch
        {
            // An exception must never unwind through native frames; a failing reporter is not worth aborting the job.
        }
        return self._cancel.IsCancellationRequested ? 0 : 1;
    }

    public void Dispose()
    {
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }
}
